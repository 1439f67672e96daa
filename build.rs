//! Compiles the wire contract with a vendored protoc, so a fresh machine needs no system protoc,
//! and writes the descriptor set that server reflection serves.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let well_known = protoc_bin_vendored::include_path()?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("loginprofile_descriptor.bin"))
        .compile_with_config(
            config,
            &[PathBuf::from(
                "proto/iam/loginprofile/v1/loginprofile.proto",
            )],
            &[PathBuf::from("proto"), well_known],
        )?;
    println!("cargo:rerun-if-changed=proto");
    // `sqlx::migrate!` embeds these.
    println!("cargo:rerun-if-changed=migrations");
    Ok(())
}
