//! Worker-side security: which client overrides a connector may set
//! ([`overrides`]), which values are secrets and how they are masked ([`secrets`]), config
//! providers that resolve `${provider:path:key}` references at task start ([`providers`]),
//! and Kafka's `sasl.jaas.config` syntax ([`jaas`]).

pub mod jaas;
pub mod overrides;
pub mod providers;
pub mod secrets;
