//! What went wrong with Redis, worded for whoever reads the log: which
//! server, what was lost, and fred's own error as the source.

use std::fmt;
use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};

/// A Redis failure, wrapped in a [`LayerError`](crate::layer::LayerError).
#[derive(Debug)]
pub(super) struct Failure {
    what: What,
    /// `host:port`, never the URL (it may hold a password).
    server: String,
    source: Option<FredError>,
}

#[derive(Debug)]
enum What {
    Url,
    NoTls,
    Connect,
    Publish { unreachable: bool },
    PublishTimedOut(Duration),
}

impl Failure {
    pub(super) fn url(error: FredError) -> Failure {
        Failure {
            what: What::Url,
            server: String::new(),
            source: Some(error),
        }
    }

    pub(super) fn no_tls() -> Failure {
        Failure {
            what: What::NoTls,
            server: String::new(),
            source: None,
        }
    }

    pub(super) fn connect(server: &str, error: FredError) -> Failure {
        Failure {
            what: What::Connect,
            server: server.to_owned(),
            source: Some(error),
        }
    }

    pub(super) fn publish(server: &str, error: FredError) -> Failure {
        // Canceled is fred's answer to a fail-fast command while the
        // connection is down; IO and Timeout are a connection lost or
        // stalled under it.
        let unreachable = matches!(
            error.kind(),
            ErrorKind::Canceled | ErrorKind::IO | ErrorKind::Timeout
        );
        Failure {
            what: What::Publish { unreachable },
            server: server.to_owned(),
            source: Some(error),
        }
    }

    pub(super) fn publish_timed_out(server: &str, after: Duration) -> Failure {
        Failure {
            what: What::PublishTimedOut(after),
            server: server.to_owned(),
            source: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = &self.server;
        match &self.what {
            What::Url => f.write_str("invalid Redis URL")?,
            What::NoTls => f.write_str(
                "invalid Redis URL: TLS (rediss://) is not supported by this build of sockwarden",
            )?,
            What::Connect => write!(f, "cannot connect to Redis at {server}")?,
            What::Publish { unreachable: true } => write!(
                f,
                "Redis at {server} is unreachable; the envelope may not have reached other processes"
            )?,
            What::Publish { unreachable: false } => {
                write!(f, "Redis at {server} refused the envelope")?;
            }
            What::PublishTimedOut(after) => write!(
                f,
                "Redis at {server} is unreachable: no answer to PUBLISH within {after:?}; \
                 the envelope may not have reached other processes"
            )?,
        }
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|error| error as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_reads_as_unreachable_and_names_the_server() {
        let error = FredError::new(ErrorKind::Canceled, "Connection closed unexpectedly.");
        let text = Failure::publish("127.0.0.1:6390", error).to_string();
        assert!(
            text.starts_with("Redis at 127.0.0.1:6390 is unreachable"),
            "{text}"
        );
        assert!(text.contains("Connection closed unexpectedly"), "{text}");
    }

    #[test]
    fn a_url_error_does_not_repeat_the_url() {
        let url = "redis://user:hunter2@127.0.0.1:notaport/0";
        let error = fred::prelude::Config::from_url(url).expect_err("a bad port");
        let text = Failure::url(error).to_string();
        assert!(text.starts_with("invalid Redis URL"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
