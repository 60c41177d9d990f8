"""The single window: applications, composite and proactive services, notifications, figures."""
