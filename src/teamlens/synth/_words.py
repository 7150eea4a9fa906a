"""Word lists the synthetic organisation is named from.

Names are common given names and surnames from many countries, combined at random, so no
generated person is meant to be anyone. Every list is ASCII so that e-mail addresses can be
derived from display names without transliteration.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Aaron", "Abigail", "Adam", "Adaeze", "Aisha", "Akira", "Alan", "Alba", "Alex", "Alice", "Amara",
    "Amelia", "Amir", "Ana", "Andrea", "Anna", "Arjun", "Ava", "Ben", "Bianca", "Bilal", "Carla",
    "Carlos", "Chen", "Chloe", "Chris", "Clara", "Daniel", "Dara", "David", "Diego", "Elena", "Eli",
    "Emma", "Erik", "Eva", "Fatima", "Felix", "Fiona", "Finn", "Gabriel", "Grace", "Hana", "Hannah",
    "Hassan", "Ines", "Isaac", "Isla", "Ivan", "Jack", "James", "Jana", "Javier", "Jin", "Joao",
    "Jonas", "Julia", "Kai", "Karim", "Kate", "Kenji", "Kofi", "Lara", "Laura", "Leah", "Leo", "Liam",
    "Lina", "Lucas", "Lucy", "Luis", "Maya", "Mark", "Marta", "Mateo", "Mei", "Mia", "Michael",
    "Mohammed", "Nadia", "Naomi", "Nathan", "Nia", "Nikhil", "Nina", "Noah", "Nora", "Olivia", "Omar",
    "Oscar", "Paul", "Pedro", "Priya", "Rachel", "Rafael", "Ravi", "Rhys", "Rosa", "Ruth", "Sam",
    "Sara", "Sean", "Sofia", "Sophie", "Sven", "Tariq", "Tom", "Tomas", "Uma", "Victor", "Wei",
    "Yara", "Yusuf", "Zara", "Zoe",
)

SURNAMES: tuple[str, ...] = (
    "Abbott", "Adeyemi", "Ahmed", "Ali", "Andersen", "Bailey", "Baker", "Becker", "Bianchi", "Brown",
    "Byrne", "Campbell", "Carter", "Chen", "Clarke", "Costa", "Das", "Davies", "Diaz", "Dubois",
    "Edwards", "Evans", "Fernandes", "Fischer", "Fitzgerald", "Garcia", "Green", "Gupta", "Hall",
    "Hansen", "Harris", "Hughes", "Ibrahim", "Ito", "Jansen", "Jensen", "Johnson", "Jones", "Kaur",
    "Kelly", "Khan", "Kim", "Klein", "Kowalski", "Kumar", "Lee", "Lewis", "Li", "Lopez", "Martin",
    "Meyer", "Miller", "Mensah", "Moreau", "Morris", "Murphy", "Nakamura", "Nguyen", "Novak",
    "Nowak", "Obi", "OConnor", "Okafor", "Olsen", "Patel", "Perez", "Petrov", "Quinn", "Reid",
    "Ricci", "Roberts", "Rossi", "Santos", "Schmidt", "Shah", "Silva", "Singh", "Smith", "Suzuki",
    "Taylor", "Thomas", "Turner", "Walker", "Wang", "Watson", "Weber", "White", "Williams", "Wilson",
    "Wood", "Wright", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zhou",
)

#: Division → the department functions that usually sit in it.
DIVISIONS: dict[str, tuple[str, ...]] = {
    "Technology": ("Engineering", "Infrastructure", "Data and Analytics", "Security", "IT Services",
                   "Architecture"),
    "Product": ("Product Management", "Design", "Research", "Content"),
    "Operations": ("Operations", "Logistics", "Procurement", "Facilities", "Quality"),
    "Commercial": ("Sales", "Account Management", "Partnerships", "Business Development"),
    "Marketing": ("Marketing", "Communications", "Brand", "Events"),
    "Customer": ("Customer Support", "Customer Success", "Service Delivery", "Training"),
    "Finance": ("Finance", "Accounting", "Treasury", "Tax", "Audit"),
    "People": ("People Operations", "Talent Acquisition", "Learning", "Reward"),
    "Legal and Risk": ("Legal", "Compliance", "Risk", "Privacy Office"),
    "Strategy": ("Strategy", "Programme Office", "Transformation"),
    "Manufacturing": ("Production", "Maintenance", "Supply Planning", "Health and Safety"),
    "Research and Development": ("Applied Research", "Prototyping", "Testing", "Standards"),
}

#: Qualifiers that keep department names unique when a function repeats.
DEPARTMENT_QUALIFIERS: tuple[str, ...] = (
    "Enterprise", "Retail", "Digital", "Regional", "International", "Central", "Northern", "Southern",
    "Eastern", "Western", "Group", "Consumer", "Corporate", "Public Sector", "Wholesale", "Online",
    "Field", "Core", "Emerging Markets", "Strategic",
)

TEAM_TOPICS: tuple[str, ...] = (
    "Payments", "Identity", "Search", "Billing", "Onboarding", "Mobile", "Checkout", "Pricing",
    "Routing", "Catalogue", "Reporting", "Messaging", "Accounts", "Claims", "Contracts", "Forecasting",
    "Inventory", "Fulfilment", "Returns", "Loyalty", "Campaigns", "Insights", "Workplace", "Payroll",
    "Benefits", "Recruiting", "Vendor", "Quality", "Field", "Network", "Cloud", "Storage", "Release",
    "Observability", "Integration", "Partner", "Renewals", "Enterprise", "Small Business", "Web",
    "Desktop", "Knowledge", "Community", "Events", "Brand", "Content", "Localisation", "Accessibility",
    "Compliance", "Audit", "Treasury", "Tax", "Planning", "Scheduling", "Dispatch", "Warehouse",
    "Sourcing", "Safety", "Maintenance", "Analytics", "Machine Learning", "Design System", "Research",
    "Documentation", "Support", "Escalations", "Learning", "Wellbeing", "Facilities", "Travel",
)

TEAM_KINDS: tuple[str, ...] = (
    "Platform", "Services", "Squad", "Team", "Operations", "Analytics", "Delivery", "Core", "Tools",
    "Desk", "Hub", "Studio", "Crew", "Unit", "Group", "Lab", "Cell", "Office", "Guild", "Works",
    "Foundations", "Experience", "Programme", "Taskforce", "Circle",
)

#: City, IANA time zone, share of teams based there.
LOCATIONS: tuple[tuple[str, str, float], ...] = (
    ("London", "Europe/London", 0.34),
    ("Manchester", "Europe/London", 0.15),
    ("Edinburgh", "Europe/London", 0.08),
    ("Berlin", "Europe/Berlin", 0.15),
    ("Dublin", "Europe/Dublin", 0.10),
    ("New York", "America/New_York", 0.12),
    ("Singapore", "Asia/Singapore", 0.06),
)
