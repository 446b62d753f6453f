//! The server-limit flags shared by `info` and `check`, and the human
//! forms of sizes and durations they take and print.

use std::num::NonZeroUsize;
use std::time::Duration;

use surli::ServerLimits;

/// The limits the server would impose: each flag replaces one default of
/// [`ServerLimits`], so what `info` shows is what a host with these
/// settings would run.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LimitsArgs {
    /// Most linear memory per instance, e.g. `64MiB`, `1GB`, or `none`
    /// [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<Ceiling<u64>>,

    /// Longest call, e.g. `2s`, `500ms`, `1m`, or `none` [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Ceiling<Duration>>,

    /// Most instances of the module alive at once [default: 8]
    #[arg(long, value_name = "N")]
    pool: Option<NonZeroUsize>,

    /// Most keys in the module's KV store, or `none` [default: 100000]
    #[arg(long, value_name = "N", value_parser = parse_count)]
    max_kv_entries: Option<Ceiling<u64>>,

    /// Largest encoded KV value, e.g. `4096` or `1MiB`, or `none`
    /// [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_kv_value_bytes: Option<Ceiling<u64>>,

    /// Most bytes of keys and values in the module's KV store together,
    /// e.g. `16MiB`, or `none` [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_kv_bytes: Option<Ceiling<u64>>,

    /// Let modules that set `strict_timeout = false` run without timeouts
    #[arg(long)]
    allow_relaxed_timeout: bool,

    /// Most outbound HTTP requests (wasi:http) one call may make, or `none`
    /// [default: 32]
    #[arg(long, value_name = "N", value_parser = parse_count)]
    max_http_requests: Option<Ceiling<u64>>,

    /// Most outbound HTTP requests one instance may have open at once, or
    /// `none` [default: 4]
    #[arg(long, value_name = "N", value_parser = parse_count)]
    max_http_concurrent: Option<Ceiling<u64>>,

    /// Largest outbound HTTP request body, e.g. `64KiB`, or `none`
    /// [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_http_request_bytes: Option<Ceiling<u64>>,

    /// Largest HTTP response body a module may receive, e.g. `16MiB`, or
    /// `none` [default: 8MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_http_response_bytes: Option<Ceiling<u64>>,
}

impl LimitsArgs {
    pub(crate) fn server_limits(&self) -> ServerLimits {
        let mut limits = ServerLimits::default();
        if let Some(Ceiling(value)) = self.max_memory {
            limits.max_memory_bytes = value;
        }
        if let Some(Ceiling(value)) = self.timeout {
            limits.max_execution_time = value;
        }
        if let Some(pool) = self.pool {
            limits.max_pool_size = pool;
        }
        if let Some(Ceiling(value)) = self.max_kv_entries {
            limits.max_kv_entries = value;
        }
        if let Some(Ceiling(value)) = self.max_kv_value_bytes {
            limits.max_kv_value_bytes = value;
        }
        if let Some(Ceiling(value)) = self.max_kv_bytes {
            limits.max_kv_bytes = value;
        }
        limits.allow_relaxed_timeout = self.allow_relaxed_timeout;
        if let Some(Ceiling(value)) = self.max_http_requests {
            limits.max_http_requests_per_call = value;
        }
        if let Some(Ceiling(value)) = self.max_http_concurrent {
            limits.max_http_concurrent_requests = value;
        }
        if let Some(Ceiling(value)) = self.max_http_request_bytes {
            limits.max_http_request_bytes = value;
        }
        if let Some(Ceiling(value)) = self.max_http_response_bytes {
            limits.max_http_response_bytes = value;
        }
        limits
    }
}

/// A server ceiling as given on the command line; `none` lifts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ceiling<T>(Option<T>);

impl<T> Ceiling<T> {
    /// The value, or `None` for `none`.
    pub(crate) fn into_inner(self) -> Option<T> {
        self.0
    }
}

const NONE: &str = "none";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Splits `64MiB` or `64 MiB` into its number and its unit.
fn split_number(text: &str) -> Result<(u64, &str), String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits == 0 {
        return Err(format!("`{text}` does not start with a whole number"));
    }
    let (number, unit) = text.split_at(digits);
    let number = number
        .parse::<u64>()
        .map_err(|e| format!("`{number}`: {e}"))?;
    Ok((number, unit.trim()))
}

/// Sizes: a number of bytes, optionally with a unit: `KiB`, `MiB`, `GiB`
/// (or `K`, `M`, `G`) are powers of 1024, `KB`, `MB`, `GB` powers of 1000,
/// in any case. `none` means no ceiling.
pub(crate) fn parse_size(text: &str) -> Result<Ceiling<u64>, String> {
    if text.trim().eq_ignore_ascii_case(NONE) {
        return Ok(Ceiling(None));
    }
    let (number, unit) = split_number(text)?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => MIB,
        "g" | "gib" => GIB,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        other => {
            return Err(format!(
                "unknown size unit `{other}`; use B, KiB, MiB, GiB, KB, MB or GB, or `none`"
            ));
        }
    };
    number
        .checked_mul(scale)
        .map(|bytes| Ceiling(Some(bytes)))
        .ok_or_else(|| format!("`{}` is too large", text.trim()))
}

/// Durations: a whole number with a unit, `ms`, `s`, `m` or `h`. A bare
/// number is refused rather than guessed at, since the module's own
/// `max_execution_time` is in milliseconds and a server's is usually
/// thought of in seconds. `none` means no ceiling.
pub(crate) fn parse_duration(text: &str) -> Result<Ceiling<Duration>, String> {
    if text.trim().eq_ignore_ascii_case(NONE) {
        return Ok(Ceiling(None));
    }
    let (number, unit) = split_number(text)?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("`{}` is too long", text.trim()))
    };
    let duration = match unit.to_ascii_lowercase().as_str() {
        "ms" => Duration::from_millis(number),
        "s" => seconds(1)?,
        "m" | "min" => seconds(60)?,
        "h" => seconds(3600)?,
        "" => return Err(format!("`{number}` needs a unit: {number}s or {number}ms")),
        other => {
            return Err(format!(
                "unknown duration unit `{other}`; use ms, s, m or h, or `none`"
            ));
        }
    };
    if duration.is_zero() {
        return Err("a zero timeout would fail every call; write `none` for no limit".to_owned());
    }
    Ok(Ceiling(Some(duration)))
}

/// Counts: a whole number, or `none`.
pub(crate) fn parse_count(text: &str) -> Result<Ceiling<u64>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case(NONE) {
        return Ok(Ceiling(None));
    }
    text.parse::<u64>()
        .map(|n| Ceiling(Some(n)))
        .map_err(|e| format!("`{text}`: {e}"))
}

/// A byte count in the largest unit that divides it exactly, so the text
/// reads back through [`parse_size`] to the same number.
pub(crate) fn format_bytes(bytes: u64) -> String {
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A duration in the largest unit that divides it exactly, in the form
/// [`parse_duration`] reads.
pub(crate) fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms >= 3_600_000 && ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Milliseconds for JSON; no real limit comes near `u64::MAX`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB"), Ok(Ceiling(Some(64 * MIB))));
        assert_eq!(parse_size("64 mib"), Ok(Ceiling(Some(64 * MIB))));
        assert_eq!(parse_size("1GB"), Ok(Ceiling(Some(1_000_000_000))));
        assert_eq!(parse_size("4096"), Ok(Ceiling(Some(4096))));
        assert_eq!(parse_size("none"), Ok(Ceiling(None)));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("1.5MiB").is_err());
        assert!(parse_size("64 parsecs").is_err());
        assert!(parse_size("18446744073709551615GiB").is_err());
    }

    #[test]
    fn durations_need_a_unit_and_cannot_be_zero() {
        assert_eq!(
            parse_duration("2s"),
            Ok(Ceiling(Some(Duration::from_secs(2))))
        );
        assert_eq!(
            parse_duration("500ms"),
            Ok(Ceiling(Some(Duration::from_millis(500))))
        );
        assert_eq!(
            parse_duration("1m"),
            Ok(Ceiling(Some(Duration::from_secs(60))))
        );
        assert_eq!(parse_duration("NONE"), Ok(Ceiling(None)));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("2 fortnights").is_err());
    }

    /// The defaults in the help text are written by hand; this keeps them
    /// equal to the library's.
    #[test]
    fn the_help_states_the_real_defaults() {
        use clap::Args as _;

        let help = LimitsArgs::augment_args(clap::Command::new("surli"))
            .render_help()
            .to_string();
        let limits = ServerLimits::default();
        let bytes = |value: Option<u64>| {
            value.map_or_else(|| "none".to_owned(), |v| format_bytes(v).replace(' ', ""))
        };
        let count = |value: Option<u64>| value.map_or_else(|| "none".to_owned(), |n| n.to_string());
        let expected = [
            bytes(limits.max_memory_bytes),
            limits
                .max_execution_time
                .map_or_else(|| "none".to_owned(), format_duration),
            limits.max_pool_size.to_string(),
            limits
                .max_kv_entries
                .map_or_else(|| "none".to_owned(), |n| n.to_string()),
            bytes(limits.max_kv_value_bytes),
            bytes(limits.max_kv_bytes),
            count(limits.max_http_requests_per_call),
            count(limits.max_http_concurrent_requests),
            bytes(limits.max_http_request_bytes),
            bytes(limits.max_http_response_bytes),
        ];
        for value in expected {
            let needle = format!("[default: {value}]");
            assert!(help.contains(&needle), "{needle} is not in\n{help}");
        }
    }

    #[test]
    fn formatted_values_read_back() {
        for bytes in [0, 1000, KIB, 64 * MIB, 3 * GIB, MIB + 1] {
            let text = format_bytes(bytes).replace(" bytes", "");
            assert_eq!(parse_size(&text), Ok(Ceiling(Some(bytes))), "{text}");
        }
        for ms in [1, 1500, 2000, 60_000, 7_200_000] {
            let duration = Duration::from_millis(ms);
            let text = format_duration(duration);
            assert_eq!(parse_duration(&text), Ok(Ceiling(Some(duration))), "{text}");
        }
    }
}
