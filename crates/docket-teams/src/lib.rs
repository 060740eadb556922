//! Docket in Microsoft Teams (being built).
