"""The citizen's notification inbox, fed by events; SMS for the important ones."""
