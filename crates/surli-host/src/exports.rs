//! The guest's exports, found once per component and bound once per
//! instance.

use std::fmt;

use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentType, Func, Instance, Lift, TypedFunc,
};
use wasmtime::{AsContextMut, ValRaw};

use crate::HostError;

/// One export of the `plugin` world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginExport {
    /// `invoke`, the only required export.
    Invoke,
    /// `list-functions`.
    ListFunctions,
    /// `function-args`.
    FunctionArgs,
    /// `function-returns`.
    FunctionReturns,
    /// `function-writeable`.
    FunctionWriteable,
    /// `function-comment`.
    FunctionComment,
    /// `init`.
    Init,
}

impl PluginExport {
    /// Every export, `invoke` first.
    pub const ALL: [PluginExport; 7] = [
        Self::Invoke,
        Self::ListFunctions,
        Self::FunctionArgs,
        Self::FunctionReturns,
        Self::FunctionWriteable,
        Self::FunctionComment,
        Self::Init,
    ];

    /// The export's WIT name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Invoke => "invoke",
            Self::ListFunctions => "list-functions",
            Self::FunctionArgs => "function-args",
            Self::FunctionReturns => "function-returns",
            Self::FunctionWriteable => "function-writeable",
            Self::FunctionComment => "function-comment",
            Self::Init => "init",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for PluginExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// The signatures of the exports, as wasmtime's typed functions see them.
// Parameters are borrowed so a call copies the caller's bytes straight
// into guest memory.
type InvokeParams<'a> = (Option<&'a str>, &'a [u8]);
type NameParam<'a> = (Option<&'a str>,);
type BytesResult = (Result<Vec<u8>, String>,);
type BoundedResult = (Result<Bounded<Vec<u8>>, Bounded<String>>,);
type ListFunctions = TypedFunc<(), (Vec<Option<String>>,)>;
// `invoke`, typed once at bind. wasmtime's `TypedFunc` is covariant in its
// parameters (see its `_marker`), so the `'static` borrows stored here
// shorten to the caller's at each call: no type check per call.
type Invoke = TypedFunc<InvokeParams<'static>, BytesResult>;
type InvokeBounded = TypedFunc<InvokeParams<'static>, BoundedResult>;
type Init = TypedFunc<(), (Result<(), String>,)>;

/// Where a component's exports are, found once per component.
///
/// Only `invoke` is required. The other six are looked up too and may be
/// missing: the SDK always exports them, but a component built by other
/// means need not, and the host can fall back on the package's manifest.
#[derive(Debug, Clone)]
pub struct PluginExports {
    indices: [Option<ComponentExportIndex>; 7],
}

impl PluginExports {
    /// Finds the exports of `component`.
    ///
    /// # Errors
    ///
    /// [`HostError::MissingExport`] when there is no `invoke`;
    /// [`HostError::ExportType`] when an export of one of these names is not
    /// a function. Signatures are checked by [`bind`](Self::bind).
    pub fn resolve(component: &Component) -> Result<Self, HostError> {
        let mut indices = [None; 7];
        for export in PluginExport::ALL {
            let Some((item, index)) = component.get_export(None, export.name()) else {
                continue;
            };
            if !matches!(item, ComponentItem::ComponentFunc(_)) {
                return Err(HostError::ExportType {
                    name: export.name(),
                    message: "it is not a function".to_owned(),
                });
            }
            indices[export.slot()] = Some(index);
        }
        if indices[PluginExport::Invoke.slot()].is_none() {
            return Err(HostError::MissingExport {
                name: PluginExport::Invoke.name(),
            });
        }
        Ok(Self { indices })
    }

    /// Whether the component exports `export`.
    pub fn has(&self, export: PluginExport) -> bool {
        self.indices[export.slot()].is_some()
    }

    /// The exports of one instance of the component, with their signatures
    /// checked.
    ///
    /// # Errors
    ///
    /// [`HostError::ExportType`] when an export's signature differs from
    /// the `plugin` world's.
    ///
    /// # Panics
    ///
    /// As wasmtime does, if `instance` does not belong to `store`.
    pub fn bind(
        &self,
        mut store: impl AsContextMut,
        instance: &Instance,
    ) -> Result<GuestExports, HostError> {
        let mut store = store.as_context_mut();
        let mut func = |export: PluginExport| -> Result<Option<Func>, HostError> {
            let Some(index) = &self.indices[export.slot()] else {
                return Ok(None);
            };
            instance
                .get_func(&mut store, index)
                .map(Some)
                .ok_or_else(|| HostError::ExportType {
                    name: export.name(),
                    message: "the instance does not have it; was it created from another \
                              component?"
                        .to_owned(),
                })
        };
        let invoke = func(PluginExport::Invoke)?.ok_or(HostError::MissingExport {
            name: PluginExport::Invoke.name(),
        })?;
        let list_functions = func(PluginExport::ListFunctions)?;
        let function_args = func(PluginExport::FunctionArgs)?;
        let function_returns = func(PluginExport::FunctionReturns)?;
        let function_writeable = func(PluginExport::FunctionWriteable)?;
        let function_comment = func(PluginExport::FunctionComment)?;
        let init = func(PluginExport::Init)?;

        let invoke_bounded =
            typed::<InvokeParams<'static>, BoundedResult>(&store, &invoke, PluginExport::Invoke)?;
        let invoke =
            typed::<InvokeParams<'static>, BytesResult>(&store, &invoke, PluginExport::Invoke)?;
        for (func, export) in [
            (&function_args, PluginExport::FunctionArgs),
            (&function_returns, PluginExport::FunctionReturns),
        ] {
            if let Some(func) = func {
                check::<NameParam<'_>, BytesResult>(&store, func, export)?;
            }
        }
        if let Some(func) = &function_writeable {
            check::<NameParam<'_>, (Result<bool, String>,)>(
                &store,
                func,
                PluginExport::FunctionWriteable,
            )?;
        }
        if let Some(func) = &function_comment {
            check::<NameParam<'_>, (Result<Option<String>, String>,)>(
                &store,
                func,
                PluginExport::FunctionComment,
            )?;
        }
        let list_functions = list_functions
            .map(|func| typed(&store, &func, PluginExport::ListFunctions))
            .transpose()?;
        let init = init
            .map(|func| typed(&store, &func, PluginExport::Init))
            .transpose()?;

        Ok(GuestExports {
            invoke,
            invoke_bounded,
            list_functions,
            function_args,
            function_returns,
            function_writeable,
            function_comment,
            init,
        })
    }
}

fn typed<P, R>(
    store: &impl wasmtime::AsContext,
    func: &Func,
    export: PluginExport,
) -> Result<TypedFunc<P, R>, HostError>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    func.typed::<P, R>(store)
        .map_err(|error| HostError::ExportType {
            name: export.name(),
            message: format!("{error:#}"),
        })
}

fn check<P, R>(
    store: &impl wasmtime::AsContext,
    func: &Func,
    export: PluginExport,
) -> Result<(), HostError>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    typed::<P, R>(store, func, export).map(|_| ())
}

/// The exports of one instance, checked against the `plugin` world.
///
/// Each method enters the guest with `call_async` (the store must be
/// configured for async) and has two levels of failure: the outer
/// `wasmtime::Error` is a trap (the guest panicked, ran out of fuel or
/// time, broke the canonical ABI; the instance must not be used again),
/// the inner `Err(String)` is the guest's own error message (the instance
/// is fine).
///
/// The optional exports return `Ok(None)` when the component does not have
/// them, except [`init`](Self::init), for which a missing export means there
/// is nothing to initialise.
///
/// Functions taking a name or arguments borrow them. `invoke`, the one on
/// every call's path, is typed once in [`PluginExports::bind`]: its typed
/// function is stored with `'static` borrows, which wasmtime's covariance
/// shortens to the caller's at each call. The metadata exports taking a
/// name are kept untyped, checked once at bind, and given their (borrowed)
/// type again at each call, which repeats the check (a walk over the
/// parameter types) instead of copying the arguments; they run only when a
/// module is described.
#[derive(Clone, Copy)]
pub struct GuestExports {
    invoke: Invoke,
    invoke_bounded: InvokeBounded,
    list_functions: Option<ListFunctions>,
    function_args: Option<Func>,
    function_returns: Option<Func>,
    function_writeable: Option<Func>,
    function_comment: Option<Func>,
    init: Option<Init>,
}

impl fmt::Debug for GuestExports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<_> = PluginExport::ALL
            .into_iter()
            .filter(|export| self.has(*export))
            .map(PluginExport::name)
            .collect();
        f.debug_struct("GuestExports")
            .field("exports", &present)
            .finish_non_exhaustive()
    }
}

impl GuestExports {
    /// Whether the instance has `export`.
    pub fn has(&self, export: PluginExport) -> bool {
        match export {
            PluginExport::Invoke => true,
            PluginExport::ListFunctions => self.list_functions.is_some(),
            PluginExport::FunctionArgs => self.function_args.is_some(),
            PluginExport::FunctionReturns => self.function_returns.is_some(),
            PluginExport::FunctionWriteable => self.function_writeable.is_some(),
            PluginExport::FunctionComment => self.function_comment.is_some(),
            PluginExport::Init => self.init.is_some(),
        }
    }

    /// Calls the function `name` (`None`: the default export) with `args`,
    /// an encoded `ValueList` (see [`codec::encode_args`](crate::codec::encode_args)).
    /// `Ok(Ok(bytes))` holds the encoded result value.
    ///
    /// The answer is copied out whatever its size, up to the store's
    /// hostcall fuel (wasmtime's default is 128 MiB; more is an error).
    /// A host running untrusted guests wants
    /// [`invoke_bounded`](Self::invoke_bounded), which says how large a
    /// refused answer was.
    pub async fn invoke(
        &self,
        mut store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
        args: &[u8],
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let func: TypedFunc<InvokeParams<'_>, BytesResult> = self.invoke;
        let (result,) = func.call_async(&mut store, (name, args)).await?;
        Ok(result)
    }

    /// [`invoke`](Self::invoke), refusing an answer (the encoded value, or
    /// the guest's error text) longer than `max_answer_bytes` before any of
    /// it is copied out of the guest's memory.
    ///
    /// The limit is applied as the store's hostcall fuel
    /// ([`Store::set_hostcall_fuel`](wasmtime::Store::set_hostcall_fuel)),
    /// set to `max_answer_bytes` by this call and left so: it also bounds
    /// what each host call made during this call can take from the guest
    /// (its strings and lists together), which wasmtime refuses with an
    /// error (a trap for the call) rather than an [`InvokeAnswer`].
    ///
    /// # Why not a `WasmList`
    ///
    /// Since wasmtime 48 the guest's post-return function runs as soon as
    /// the answer is lifted, before `call_async` returns, and an SDK guest's
    /// post-return frees the answer. A `WasmList` read afterwards points into
    /// freed memory, where the guest's allocator may already have written
    /// its own bookkeeping. So the answer is lifted through `Bounded` (a
    /// private wrapper), which measures it while it is still intact and
    /// copies it only when it fits.
    pub async fn invoke_bounded(
        &self,
        mut store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
        args: &[u8],
        max_answer_bytes: usize,
    ) -> wasmtime::Result<InvokeAnswer> {
        store.as_context_mut().set_hostcall_fuel(max_answer_bytes);
        let func: TypedFunc<InvokeParams<'_>, BoundedResult> = self.invoke_bounded;
        let (result,) = func.call_async(&mut store, (name, args)).await?;
        Ok(match result {
            Ok(Bounded::Fits(bytes)) => InvokeAnswer::Value(bytes),
            Err(Bounded::Fits(message)) => InvokeAnswer::Error(message),
            Ok(Bounded::TooLarge(size)) => InvokeAnswer::TooLarge { size, error: false },
            Err(Bounded::TooLarge(size)) => InvokeAnswer::TooLarge { size, error: true },
        })
    }

    /// The names of the module's functions (`None`: the default export).
    pub async fn list_functions(
        &self,
        mut store: impl AsContextMut<Data: Send>,
    ) -> wasmtime::Result<Option<Vec<Option<String>>>> {
        let Some(func) = &self.list_functions else {
            return Ok(None);
        };
        let (names,) = func.call_async(&mut store, ()).await?;
        Ok(Some(names))
    }

    /// The encoded `ArgumentList` of `name`'s parameters (see
    /// [`codec::decode_arguments`](crate::codec::decode_arguments)).
    pub async fn function_args(
        &self,
        store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
    ) -> wasmtime::Result<Option<Result<Vec<u8>, String>>> {
        call_named::<Result<Vec<u8>, String>>(self.function_args.as_ref(), store, name).await
    }

    /// The encoded `Kind` `name` returns (see
    /// [`codec::decode_kind`](crate::codec::decode_kind)).
    pub async fn function_returns(
        &self,
        store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
    ) -> wasmtime::Result<Option<Result<Vec<u8>, String>>> {
        call_named::<Result<Vec<u8>, String>>(self.function_returns.as_ref(), store, name).await
    }

    /// Whether `name` writes to the database.
    pub async fn function_writeable(
        &self,
        store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
    ) -> wasmtime::Result<Option<Result<bool, String>>> {
        call_named::<Result<bool, String>>(self.function_writeable.as_ref(), store, name).await
    }

    /// The documentation of `name`, if it has any.
    pub async fn function_comment(
        &self,
        store: impl AsContextMut<Data: Send>,
        name: Option<&str>,
    ) -> wasmtime::Result<Option<Result<Option<String>, String>>> {
        call_named::<Result<Option<String>, String>>(self.function_comment.as_ref(), store, name)
            .await
    }

    /// Runs the module's `init`; `Ok(Ok(()))` without calling anything when
    /// the module has none.
    pub async fn init(
        &self,
        mut store: impl AsContextMut<Data: Send>,
    ) -> wasmtime::Result<Result<(), String>> {
        let Some(func) = &self.init else {
            return Ok(Ok(()));
        };
        let (result,) = func.call_async(&mut store, ()).await?;
        Ok(result)
    }
}

/// Calls an optional export that takes a function name.
async fn call_named<R>(
    func: Option<&Func>,
    mut store: impl AsContextMut<Data: Send>,
    name: Option<&str>,
) -> wasmtime::Result<Option<R>>
where
    R: wasmtime::component::ComponentType + wasmtime::component::Lift + Send + Sync + 'static,
{
    let Some(func) = func else {
        return Ok(None);
    };
    let func = func.typed::<NameParam<'_>, (R,)>(&store)?;
    let (result,) = func.call_async(&mut store, (name,)).await?;
    Ok(Some(result))
}

/// What a guest's `invoke` answered, read under a size limit by
/// [`GuestExports::invoke_bounded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeAnswer {
    /// The encoded result value.
    Value(Vec<u8>),
    /// The guest's own error text.
    Error(String),
    /// The answer was `size` bytes, over the limit, and was not copied: the
    /// guest's encoded value, or its error text when `error` is set.
    TooLarge {
        /// The answer's length in the guest's memory, in bytes (for an
        /// error text, in the string's code units).
        size: usize,
        /// Whether the answer was the guest's error text.
        error: bool,
    },
}

/// A `list<u8>` or `string` lifted only when it fits what is left of the
/// lifting's hostcall fuel (see [`GuestExports::invoke_bounded`]).
///
/// Lifting is delegated to wasmtime's own lift of `T`, which checks the
/// bounds, then takes the length from the fuel, then copies: an answer over
/// the limit fails before its copy. When the delegated lift fails, the
/// pointer and length are looked at again: a list or string inside the
/// guest's memory whose length the fuel cannot cover is `TooLarge`; any
/// other failure (out of bounds, invalid UTF-8) stays an error.
#[derive(Debug)]
enum Bounded<T> {
    Fits(T),
    TooLarge(usize),
}

impl<T> Bounded<T> {
    fn lift(
        cx: &mut LiftContext<'_>,
        (ptr, len): (usize, usize),
        lift: impl FnOnce(&mut LiftContext<'_>) -> wasmtime::Result<T>,
    ) -> wasmtime::Result<Self> {
        match lift(cx) {
            Ok(value) => Ok(Self::Fits(value)),
            Err(error) => {
                let in_memory = ptr
                    .checked_add(len)
                    .is_some_and(|end| end <= cx.memory().len());
                // A failed `consume_fuel` consumes nothing, so this asks the
                // question the delegated lift asked, with the same fuel.
                if in_memory && cx.consume_fuel(len).is_err() {
                    Ok(Self::TooLarge(len))
                } else {
                    Err(error)
                }
            }
        }
    }
}

/// The pointer and length of a list or string, as stored in memory (two
/// little-endian `u32`s, the canonical ABI's layout for 32-bit memories).
fn pointer_pair(bytes: &[u8]) -> wasmtime::Result<(usize, usize)> {
    let word = |at: usize| -> wasmtime::Result<usize> {
        let raw: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| wasmtime::format_err!("a list's pointer and length are cut short"))?;
        Ok(usize::try_from(u32::from_le_bytes(raw))?)
    };
    Ok((word(0)?, word(4)?))
}

// SAFETY: every item is `T`'s own: the same lowered representation (a
// pointer and a length, as for every list and string), the same ABI and the
// same type check, so wasmtime lays out and checks `Bounded<T>` exactly as it
// does `T`. Implementing the trait is unsafe only because those items must
// agree with each other, which they do by construction.
#[allow(unsafe_code)]
unsafe impl<T> ComponentType for Bounded<T>
where
    T: ComponentType<Lower = [ValRaw; 2]>,
{
    type Lower = [ValRaw; 2];

    const ABI: CanonicalAbiInfo = T::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        T::typecheck(ty, types)
    }
}

// SAFETY: lifting reads only what `T`'s own lift reads (plus the pointer
// and length wasmtime hands it), and produces a `T` through `T`'s lift.
#[allow(unsafe_code)]
unsafe impl<T> Lift for Bounded<T>
where
    T: Lift + ComponentType<Lower = [ValRaw; 2]>,
{
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let pair = (
            usize::try_from(src[0].get_u32())?,
            usize::try_from(src[1].get_u32())?,
        );
        Self::lift(cx, pair, |cx| T::linear_lift_from_flat(cx, ty, src))
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let pair = pointer_pair(bytes)?;
        Self::lift(cx, pair, |cx| T::linear_lift_from_memory(cx, ty, bytes))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `Bounded` reads a list's pointer and length itself (`pointer_pair`)
    /// and hands wasmtime's own lift the same two flat values. Both rely on
    /// wasmtime laying out `list<u8>` and `string` as two 32-bit words in a
    /// 32-bit memory. A wasmtime upgrade that changes this must fail here,
    /// loudly, before `Bounded` misreads an answer.
    #[test]
    fn the_list_layout_bounded_relies_on_is_wasmtimes() {
        for abi in [
            <Vec<u8> as ComponentType>::ABI,
            <String as ComponentType>::ABI,
        ] {
            assert_eq!(
                (abi.size32, abi.align32, abi.flat_count),
                (8, 4, Some(2)),
                "wasmtime's canonical ABI for lists changed: review `Bounded` and `pointer_pair`"
            );
        }
        let bounded = <Bounded<Vec<u8>> as ComponentType>::ABI;
        assert_eq!(
            (bounded.size32, bounded.align32, bounded.flat_count),
            (8, 4, Some(2))
        );
        assert_eq!(pointer_pair(&[1, 0, 0, 0, 2, 1, 0, 0]).unwrap(), (1, 258));
    }
}
