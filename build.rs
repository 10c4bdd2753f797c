//! Generates the CRI client (`runtime.v1.RuntimeService`, `Version` and `RuntimeConfig` only) from
//! proto/cri_runtime_v1.proto. protox compiles the file in Rust, so the build needs no protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/cri_runtime_v1.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
