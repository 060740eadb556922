//! A fake ServiceNow Table API.
