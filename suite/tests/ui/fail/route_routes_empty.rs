fn main() {
    let _ = corering::routes![];
}
