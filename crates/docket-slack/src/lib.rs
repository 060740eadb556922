//! Docket in Slack (being built).
