//! Logging: one JSON object per line in Cloud Logging's structured format (`severity`,
//! `message`, `time`, `httpRequest`, `logging.googleapis.com/trace`) when not on a terminal,
//! human-readable lines on one. The filter comes from `RUST_LOG`.
//!
//! The JSON layout is written here rather than by a stackdriver crate because the request's
//! trace id lives on a span, and Cloud Logging wants it at the top level of every entry.

use std::fmt;
use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::ValueEnum;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written. (Plain comments on the variants: documented variants would
/// turn every command's `--help` into the long, one-setting-per-paragraph form.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    // JSON when stderr is not a terminal, text otherwise.
    Auto,
    // One JSON object per line (Cloud Logging).
    Json,
    // Human-readable lines.
    Text,
}

static PROJECT: OnceLock<String> = OnceLock::new();

/// Sets the Google Cloud project trace ids are qualified with (once the keys name it).
pub fn set_project(project: &str) {
    let _ = PROJECT.set(project.to_string());
}

/// Installs the global subscriber. `default_level` applies when `RUST_LOG` is unset.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = match format {
        LogFormat::Auto => !std::io::stderr().is_terminal(),
        LogFormat::Json => true,
        LogFormat::Text => false,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .fmt_fields(JsonFields::new())
            .event_format(CloudLogging)
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
}

/// The Cloud Logging JSON line format.
pub struct CloudLogging;

impl<S, N> FormatEvent<S, N> for CloudLogging
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut entry = Map::new();
        entry.insert(
            "severity".into(),
            severity(*event.metadata().level()).into(),
        );
        entry.insert("time".into(), jiff::Timestamp::now().to_string().into());
        let message = fields
            .0
            .remove("message")
            .unwrap_or(Value::String(String::new()));
        entry.insert("message".into(), message);
        entry.insert("target".into(), event.metadata().target().into());

        let mut http = Map::new();
        for (name, value) in std::mem::take(&mut fields.0) {
            match name.strip_prefix("http_request.") {
                Some(key) => {
                    http.insert(key.to_string(), value);
                }
                None => {
                    entry.insert(name, value);
                }
            }
        }
        if !http.is_empty() {
            entry.insert("httpRequest".into(), Value::Object(http));
        }
        if let Some(trace) = span_field(ctx, "trace") {
            let project = PROJECT.get().map(String::as_str).unwrap_or("-");
            entry.insert(
                "logging.googleapis.com/trace".into(),
                format!("projects/{project}/traces/{trace}").into(),
            );
        }
        let line = serde_json::to_string(&entry).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// A string field recorded on the current span or one of its parents.
fn span_field<S, N>(ctx: &FmtContext<'_, S, N>, name: &str) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let scope = ctx.event_scope()?;
    for span in scope {
        let extensions = span.extensions();
        let Some(formatted) = extensions.get::<FormattedFields<N>>() else {
            continue;
        };
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(formatted.as_str())
            && let Some(Value::String(value)) = map.get(name)
        {
            return Some(value.clone());
        }
    }
    None
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}
