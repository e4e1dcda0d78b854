fn main() {
    println!("cassink {}", env!("CARGO_PKG_VERSION"));
}
