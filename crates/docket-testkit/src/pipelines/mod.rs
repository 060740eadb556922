//! Fakes of the CI services pipeline steps call: GitHub's REST API for `github_actions` steps
//! (`github`) and GitLab's for `gitlab` steps (`gitlab`).

pub mod github;
pub mod gitlab;
