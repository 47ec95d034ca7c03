//! placeholder
/// x
pub struct GeneratedFile;
/// x
pub struct GeneratedSources;
/// x
pub fn generate() {}
