//! `docket logs ID [--follow]`: a ticket's step output, read a page at a time, or followed over
//! the event stream until the ticket is done.

use std::io::Write;

use super::Outcome;
use super::follow::{Ended, Follower, LogPrinter, PAGE, Sinks};
use super::http::Api;
use super::style::Ui;

/// Prints the stored log. Status lines (when following) go to `status`, so a redirected log
/// holds only log lines.
pub(crate) async fn logs(
    api: &Api,
    id: &str,
    follow: bool,
    out: &mut dyn Write,
    status: &mut dyn Write,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    if follow {
        let ticket = api.ticket(id).await?;
        let mut follower = Follower::new(ui, false);
        follower.learn(&ticket);
        let mut sinks = Sinks { logs: out, status: Some(status) };
        follower.catch_up(api, &ticket.id, &mut sinks).await?;
        let ended = follower.run(api, &ticket.id, &mut sinks).await?;
        return Ok(Outcome::from(ended == Ended::Finished("succeeded".to_owned())));
    }
    let ticket = api.ticket(id).await?;
    let mut printer = LogPrinter::new(ui);
    printer.learn(&ticket);
    let mut after = 0;
    loop {
        let page = api.logs(&ticket.id, after, PAGE).await?;
        for line in &page.lines {
            printer.write(out, line)?;
        }
        if page.lines.len() < PAGE as usize || page.next_after <= after {
            break;
        }
        after = page.next_after;
    }
    Ok(Outcome::Success)
}
