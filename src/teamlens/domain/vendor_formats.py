"""The documented headers of the Microsoft 365 usage reports (Graph ``get…UserDetail`` CSV exports).

Facts about the vendor's formats, kept in one place: the readers in ``sources`` check files
against them (matching columns by name, never by position), and the synthetic organisation in
``synth`` writes its demo exports with them. Column names are as Microsoft documents them.
"""

#: getEmailActivityUserDetail
EMAIL_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,"
    "Send Count,Receive Count,Read Count,Meeting Created Count,Meeting Interacted Count,"
    "Assigned Products,Report Period"
)
#: getTeamsUserActivityUserDetail
TEAMS_HEADER = (
    "Report Refresh Date,Tenant Display Name,Shared Channel Tenant Display Names,User Id,"
    "User Principal Name,Last Activity Date,Is Deleted,Deleted Date,Assigned Products,"
    "Team Chat Message Count,Private Chat Message Count,Call Count,Meeting Count,Post Messages,"
    "Reply Messages,Urgent Messages,Meetings Organized Count,Meetings Attended Count,"
    "Ad Hoc Meetings Organized Count,Ad Hoc Meetings Attended Count,"
    "Scheduled One-time Meetings Organized Count,Scheduled One-time Meetings Attended Count,"
    "Scheduled Recurring Meetings Organized Count,Scheduled Recurring Meetings Attended Count,"
    "Audio Duration,Video Duration,Screen Share Duration,Audio Duration In Seconds,"
    "Video Duration In Seconds,Screen Share Duration In Seconds,Has Other Action,Is Licensed,"
    "Report Period"
)
#: getOneDriveActivityUserDetail
ONEDRIVE_HEADER = (
    "Report Refresh Date,User Principal Name,Is Deleted,Deleted Date,Last Activity Date,"
    "Viewed Or Edited File Count,Synced File Count,Shared Internally File Count,"
    "Shared Externally File Count,Assigned Products,Report Period"
)
#: getSharePointActivityUserDetail
SHAREPOINT_HEADER = (
    "Report Refresh Date,User Principal Name,Is Deleted,Deleted Date,Last Activity Date,"
    "Viewed Or Edited File Count,Synced File Count,Shared Internally File Count,"
    "Shared Externally File Count,Visited Page Count,Assigned Products,Report Period"
)
#: getOffice365ActiveUserDetail
OFFICE365_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,"
    "Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,"
    "Has Teams License,Exchange Last Activity Date,OneDrive Last Activity Date,"
    "SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,"
    "Teams Last Activity Date,Exchange License Assign Date,OneDrive License Assign Date,"
    "SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,"
    "Teams License Assign Date,Assigned Products"
)
