"""The notification inbox table and repository; the SMS sender."""
