//! The benchmark's ceiling: a bare actix-web handler answering every request with a fixed small
//! JSON body, on the same runtime settings as `novakeys serve` (2 workers). Used only by
//! `bench/run.sh`: `bench_baseline ADDR:PORT` prints `baseline listening on http://ADDR:PORT`.

use actix_web::{web, App, HttpResponse, HttpServer};

async fn fixed() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"keypair": {"name": "baseline", "fingerprint": "00:11:22:33"}}"#)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().default_service(web::to(fixed)))
            .workers(2)
            .bind(&addr)?;
        for a in server.addrs() {
            println!("baseline listening on http://{a}");
        }
        server.run().await
    })
}
