use std::num::NonZeroUsize;
use std::time::Duration;

use proptest::prelude::*;
use surli_config::{
    Capabilities, ConfigWarning, EffectiveLimits, Limit, LimitSource, ServerLimits,
};

fn module() -> Capabilities {
    Capabilities::default()
}

#[test]
fn smaller_module_limit_wins_and_is_attributed_to_the_module() {
    let server = ServerLimits::default().with_max_execution_time(Some(Duration::from_secs(5)));
    let caps = Capabilities {
        max_execution_time: Some(Duration::from_millis(100)),
        ..module()
    };
    let merged = EffectiveLimits::merge(&server, &caps).limits;
    assert_eq!(
        merged.max_execution_time,
        Some(Limit {
            value: Duration::from_millis(100),
            set_by: LimitSource::Module
        })
    );
}

#[test]
fn module_cannot_widen_the_server() {
    let server = ServerLimits::default()
        .with_max_memory_bytes(Some(1 << 20))
        .with_max_pool_size(NonZeroUsize::new(2).unwrap());
    let caps = Capabilities {
        max_memory_bytes: Some(1 << 30),
        max_pool_size: Some(64),
        ..module()
    };
    let merged = EffectiveLimits::merge(&server, &caps).limits;
    assert_eq!(merged.max_memory_bytes.unwrap().value, 1 << 20);
    assert_eq!(merged.max_memory_bytes.unwrap().set_by, LimitSource::Server);
    assert_eq!(merged.pool_size.value.get(), 2);
}

#[test]
fn a_limit_set_on_one_side_only_holds() {
    let merged = EffectiveLimits::merge(
        &ServerLimits::unlimited(),
        &Capabilities {
            max_kv_entries: Some(7),
            ..module()
        },
    )
    .limits;
    assert_eq!(merged.max_kv_entries.unwrap().value, 7);
    assert_eq!(merged.max_kv_value_bytes, None);
    assert_eq!(merged.max_memory_bytes, None);
}

#[test]
fn relaxed_timeout_needs_the_servers_consent() {
    let caps = Capabilities {
        strict_timeout: false,
        ..module()
    };
    let refused = EffectiveLimits::merge(&ServerLimits::default(), &caps);
    assert!(refused.limits.strict_timeout);
    assert_eq!(refused.warnings, [ConfigWarning::RelaxedTimeoutRefused]);

    let server = ServerLimits::default().with_allow_relaxed_timeout(true);
    let granted = EffectiveLimits::merge(&server, &caps);
    assert!(!granted.limits.strict_timeout);
    assert!(granted.warnings.is_empty());

    // A module that keeps strict timeouts keeps them whatever the server allows.
    assert!(
        EffectiveLimits::merge(&server, &module())
            .limits
            .strict_timeout
    );
}

#[test]
fn zero_pool_size_runs_one_instance_and_says_so() {
    let merged = EffectiveLimits::merge(
        &ServerLimits::default(),
        &Capabilities {
            max_pool_size: Some(0),
            ..module()
        },
    );
    assert_eq!(merged.limits.pool_size.value.get(), 1);
    assert_eq!(merged.warnings, [ConfigWarning::ZeroPoolSize]);
}

fn check_min<T: Ord + Copy + std::fmt::Debug>(
    effective: Option<Limit<T>>,
    server: Option<T>,
    module: Option<T>,
) {
    match (server, module) {
        (None, None) => assert_eq!(effective, None),
        _ => {
            let e = effective.expect("a limit set on either side must hold");
            if let Some(s) = server {
                assert!(e.value <= s, "module widened the server: {e:?} > {s:?}");
            }
            if let Some(m) = module {
                assert!(
                    e.value <= m,
                    "effective above the module's own: {e:?} > {m:?}"
                );
            }
            assert!(
                Some(e.value) == server || Some(e.value) == module,
                "effective limit comes from neither side"
            );
            let expected_source = if Some(e.value) == server {
                LimitSource::Server
            } else {
                LimitSource::Module
            };
            assert_eq!(e.set_by, expected_source);
        }
    }
}

proptest! {
    #[test]
    fn every_effective_limit_is_the_minimum_of_those_set(
        server_pool in 1usize..10_000,
        module_pool in proptest::option::of(0u64..20_000),
        server_mem in proptest::option::of(any::<u64>()),
        module_mem in proptest::option::of(any::<u64>()),
        server_ms in proptest::option::of(0u64..u64::MAX / 2),
        module_ms in proptest::option::of(0u64..u64::MAX / 2),
        server_kv in proptest::option::of(any::<u64>()),
        module_kv in proptest::option::of(any::<u64>()),
        server_kvb in proptest::option::of(any::<u64>()),
        module_kvb in proptest::option::of(any::<u64>()),
        server_kvt in proptest::option::of(any::<u64>()),
        module_kvt in proptest::option::of(any::<u64>()),
        relaxed_allowed in any::<bool>(),
        module_strict in any::<bool>(),
    ) {
        let server = ServerLimits::default().with_max_pool_size(NonZeroUsize::new(server_pool).unwrap()).with_max_memory_bytes(server_mem).with_max_execution_time(server_ms.map(Duration::from_millis)).with_max_kv_entries(server_kv).with_max_kv_value_bytes(server_kvb).with_max_kv_bytes(server_kvt).with_allow_relaxed_timeout(relaxed_allowed);
        let caps = Capabilities {
            max_pool_size: module_pool,
            max_memory_bytes: module_mem,
            max_execution_time: module_ms.map(Duration::from_millis),
            max_kv_entries: module_kv,
            max_kv_value_bytes: module_kvb,
            max_kv_bytes: module_kvt,
            strict_timeout: module_strict,
            ..Capabilities::default()
        };
        let limits = EffectiveLimits::merge(&server, &caps).limits;

        let module_pool = module_pool.map(|p| NonZeroUsize::new(p as usize).unwrap_or(NonZeroUsize::MIN));
        check_min(Some(limits.pool_size), Some(server.max_pool_size), module_pool);
        check_min(limits.max_memory_bytes, server_mem, module_mem);
        check_min(
            limits.max_execution_time,
            server.max_execution_time,
            caps.max_execution_time,
        );
        check_min(limits.max_kv_entries, server_kv, module_kv);
        check_min(limits.max_kv_value_bytes, server_kvb, module_kvb);
        check_min(limits.max_kv_bytes, server_kvt, module_kvt);
        prop_assert_eq!(limits.strict_timeout, module_strict || !relaxed_allowed);
    }
}

proptest! {
    /// The outbound HTTP limits merge like every other: the smaller side wins.
    #[test]
    fn http_limits_merge_to_the_smaller_side(
        server_req in proptest::option::of(any::<u64>()),
        module_req in proptest::option::of(any::<u64>()),
        server_open in proptest::option::of(any::<u64>()),
        module_open in proptest::option::of(any::<u64>()),
        server_out in proptest::option::of(any::<u64>()),
        module_out in proptest::option::of(any::<u64>()),
        server_in in proptest::option::of(any::<u64>()),
        module_in in proptest::option::of(any::<u64>()),
    ) {
        let server = ServerLimits::default()
            .with_max_http_requests_per_call(server_req)
            .with_max_http_concurrent_requests(server_open)
            .with_max_http_request_bytes(server_out)
            .with_max_http_response_bytes(server_in);
        let caps = Capabilities {
            max_http_requests_per_call: module_req,
            max_http_concurrent_requests: module_open,
            max_http_request_bytes: module_out,
            max_http_response_bytes: module_in,
            ..Capabilities::default()
        };
        let limits = EffectiveLimits::merge(&server, &caps).limits;
        check_min(limits.max_http_requests_per_call, server_req, module_req);
        check_min(limits.max_http_concurrent_requests, server_open, module_open);
        check_min(limits.max_http_request_bytes, server_out, module_out);
        check_min(limits.max_http_response_bytes, server_in, module_in);
    }
}

#[test]
fn http_limits_are_read_from_capabilities() {
    let parsed = surli_config::ModuleConfig::parse(
        r#"
[package]
organisation = "acme"
name = "fetch"
version = "1.0.0"

[capabilities]
allow_net = ["api.example.com:443"]
max_http_requests_per_call = 3
max_http_concurrent_requests = 1
max_http_request_bytes = 1024
max_http_response_bytes = 65536
"#,
        surli_config::ParseOptions::strict(),
    )
    .unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let caps = parsed.config.capabilities;
    assert_eq!(caps.max_http_requests_per_call, Some(3));
    assert_eq!(caps.max_http_concurrent_requests, Some(1));
    assert_eq!(caps.max_http_request_bytes, Some(1024));
    assert_eq!(caps.max_http_response_bytes, Some(65536));
}
