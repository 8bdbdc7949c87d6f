// `embed_migrations!` reads `migrations/` at compile time but cargo does not
// know that: without this, a new migration is silently left out of the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
