//! The `gitlab` section of `docket.yaml`: the token `gitlab` steps send as `PRIVATE-TOKEN`
//! (from the environment, so a secret masked wherever Docket writes), the instance's URL and
//! how often a followed pipeline is read.
//!
//! ```yaml
//! gitlab: { token: ${GITLAB_TOKEN}, url: https://gitlab.example.com, poll: 10s }
//! ```

use docket_config::Secret;
use docket_config::plugin::{Decoded, Fields, Node, Report, Section, SectionContext, duration, secret, url};
use docket_core::Duration;

/// The section's key.
pub const SECTION: &str = "gitlab";

/// The runner's settings.
#[derive(Clone, Debug)]
pub struct GitlabSettings {
    /// A token allowed to retry pipelines (`api` scope, Developer role) in the projects steps name.
    pub token: Secret,
    /// The instance, without a trailing `/` (`https://gitlab.com`).
    pub url: String,
    /// How often a followed pipeline is read.
    pub poll: Duration,
}

/// The `gitlab` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct GitlabSection;

impl Section for GitlabSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn reloads(&self) -> bool {
        true
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let report = cx.report();
        let Some(fields) = Fields::open(node, "gitlab settings", &["token", "url", "poll"], report) else {
            return Decoded::invalid();
        };
        let token = fields.req("token", report, secret);
        let base =
            fields.opt("url", report, |n, r| url(n, &["https://", "http://"], r)).or("https://gitlab.com".to_owned());
        let poll = fields.opt("poll", report, positive).or(Duration::from_secs(10));
        let (Some(token), Some(base), Some(poll)) = (token, base, poll) else { return Decoded::invalid() };
        cx.secret(&token);
        Decoded::value(GitlabSettings { token, url: base.trim_end_matches('/').to_owned(), poll })
    }
}

fn positive(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = duration(node, report)?;
    if value.as_millis() == 0 {
        report.error(node.pos, "must be longer than 0s");
        return None;
    }
    Some(value)
}
