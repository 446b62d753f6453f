//! The WASI context of one instance.

use std::sync::Arc;

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::net::socket_allowed;
use crate::stdio::GuestOutput;
use crate::{HostError, ModuleEnv};

/// Builds the WASI context: output to the given streams, no stdin, no
/// environment, no arguments, the attached directory read-only at `/`,
/// sockets only as `allow_net` says, and no DNS.
pub(crate) fn build_wasi(
    env: &ModuleEnv,
    stdout: GuestOutput,
    stderr: GuestOutput,
) -> Result<WasiCtx, HostError> {
    // The builder starts with stdin closed and no environment, arguments or
    // preopens; nothing of the host process is inherited.
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(stdout).stderr(stderr);

    // Names were resolved when the module loaded; guest DNS would be a way
    // around the allow list (and a tunnel out).
    builder.allow_ip_name_lookup(false);
    let net = Arc::clone(env.net());
    if net.is_empty() {
        builder.allow_tcp(false).allow_udp(false);
    } else {
        builder.allow_tcp(true).allow_udp(true);
        builder.socket_addr_check(move |addr, usage| {
            let allowed = socket_allowed(usage, &addr, &net);
            if !allowed {
                tracing::debug!(%addr, ?usage, "guest socket use refused by allow_net");
            }
            Box::pin(std::future::ready(allowed))
        });
    }

    if let Some(root) = env.fs_root() {
        builder
            .preopened_dir(root, "/", FsPerms::ReadOnly)
            .map_err(|error| HostError::Wasi {
                message: format!(
                    "cannot open the attached directory {} read-only: {error}",
                    root.display()
                ),
            })?;
    }
    Ok(builder.build())
}
