//! Worker-side security: which client overrides a connector may set ([`overrides`]).
//! Secret masking, config providers and `sasl.jaas.config` live in [`cassink_config`].

pub mod overrides;
