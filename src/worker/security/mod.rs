//! Worker-side security: which client overrides a connector may set ([`overrides`]).
//! Secret masking, config providers and `sasl.jaas.config` live in [`crate::config`].

pub mod overrides;
