//! Worker-side security: which client overrides a connector may set
//! ([`overrides`]), which values are secrets and how they are masked ([`secrets`]), and
//! config providers that resolve `${provider:path:key}` references at task start
//! ([`providers`]).

pub mod overrides;
pub mod providers;
pub mod secrets;
