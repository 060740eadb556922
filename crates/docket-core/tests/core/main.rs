//! Integration tests of docket-core: transitions, properties, policies, parameters, audit.

mod audit;
mod fixtures;
mod params;
mod policy;
mod properties;
mod transitions;
