//! Harnesses shared by the end-to-end suites: the local AWS emulator, an HTTP-level fake
//! of AWS, the fault proxy, nginx, the Kubernetes control plane, the fixtures and the address vectors.

pub mod controlplane;
pub mod emulator;
pub mod fake_aws;
pub mod fixtures;
pub mod nginx;
pub mod proxy;
pub mod vectors;
