//! # The body deadline
//!
//! actix-web times out a request's head (`client_request_timeout`) but not its body: a client
//! that declared a large `Content-Length` and sent a few bytes, or a chunked body without its
//! last chunk, held its connection (and a file descriptor) for as long as it liked. This
//! middleware, outermost on every listener, gives the body as long as the head gets
//! (`--client-timeout`), counted from the moment the head was read.
//!
//! What the client gets when the body is late: `408 Request Timeout` and the connection closed.
//! eventlet (Nova's own server) has only its 900 s `client_socket_timeout`, after which it
//! drops the socket without an answer; but Nova and Keystone are served by uwsgi behind
//! Apache in DevStack and most deployments, and there Apache's mod_reqtimeout cuts a body
//! that stalls with a 408 and closes the connection. That is also what actix already answers
//! to a late head, so a slow client sees one behaviour whichever part it is slow on.

use actix_http::ConnectionType;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use futures_util::future::Either;
use futures_util::StreamExt;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// How long a request body may take to arrive (app data of every listener's app).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The unread rest of a request's body, kept with its answer (see `body_deadline`).
struct Unread(#[allow(dead_code)] Rc<RefCell<actix_http::Payload>>);

/// Whether the request announces a body (a non-zero `Content-Length`, or any
/// `Transfer-Encoding`).
fn has_body(req: &ServiceRequest) -> bool {
    let h = req.headers();
    h.contains_key(TRANSFER_ENCODING)
        || h.get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// The middleware (install with `actix_web::middleware::from_fn(body_deadline)` on an app that
/// has a [`BodyTimeout`]).
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(BodyTimeout(limit)) = req.app_data::<BodyTimeout>().copied() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !has_body(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // Set once the body has ended (or broken off): from then on the deadline no longer
    // applies, however long the handler takes.
    let done = Rc::new(Cell::new(false));
    let (at_end, on_error) = (done.clone(), done.clone());
    // Shared with the answer: a request answered before its body ended must keep its payload
    // alive until the answer is sent, or actix, finding a chunked payload dropped, goes on
    // reading (draining) the body, with no deadline, instead of closing the connection.
    let original = Rc::new(RefCell::new(req.take_payload()));
    let reader = original.clone();
    let payload = futures_util::stream::poll_fn(move |cx| reader.borrow_mut().poll_next_unpin(cx))
        .inspect(move |chunk| {
            if chunk.is_err() {
                on_error.set(true);
            }
        })
        .chain(futures_util::stream::poll_fn(move |_| {
            at_end.set(true);
            std::task::Poll::Ready(None)
        }));
    let stream: actix_http::BoxedPayloadStream = Box::pin(payload);
    req.set_payload(actix_http::Payload::from(stream));
    // (Not the `HttpRequest` itself: a clone of it taken before routing makes routing panic.)
    let what = format!("{} {}", req.method(), req.path());
    let late = done.clone();
    let expired = Box::pin(async move {
        actix_web::rt::time::sleep(limit).await;
        if late.get() {
            futures_util::future::pending::<()>().await;
        }
    });
    match futures_util::future::select(Box::pin(next.call(req)), expired).await {
        Either::Left((res, _)) => {
            let mut res = res?.map_into_boxed_body();
            if !done.get() {
                // Answered without reading the whole body: the rest is not waited for (nor
                // drained) on this connection.
                let answer = res.response_mut();
                answer.head_mut().set_connection_type(ConnectionType::Close);
                answer.extensions_mut().insert(Unread(original));
            }
            Ok(res)
        }
        Either::Right(((), _)) => {
            log::info!(
                "{what}: the body did not arrive within {} s; 408 and closed",
                limit.as_secs()
            );
            // The request went to the handler (dropped now): the answer goes back as an error
            // response, which actix sends as it is.
            let mut res = HttpResponse::RequestTimeout().force_close().finish();
            res.extensions_mut().insert(Unread(original));
            Err(actix_web::error::InternalError::from_response("body timeout", res).into())
        }
    }
}
