//! # An answer sent as the parts it is made of
//!
//! Tencent's `DescribeKeyPairs` answer is a cached listing (~14 KB for 20 key pairs) inside an
//! envelope with this request's id. Copying the listing into a new buffer for every request
//! cost about a tenth of the request (42 → 37 µs of CPU a call). [`Spliced`] sends the
//! envelope's bytes and the shared listing as they are; the observe hook finds the parts in the
//! response's extensions and journals them without collecting the body either.

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A body of several shared buffers, sent one after the other (with their total as its
/// `Content-Length`).
#[derive(Debug, Clone, Default)]
pub struct Spliced {
    parts: Vec<Bytes>,
    len: usize,
    /// The next part to send.
    next: usize,
}

impl Spliced {
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Spliced {
        let parts: Vec<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let len = parts.iter().map(Bytes::len).sum();
        Spliced {
            parts,
            len,
            next: 0,
        }
    }

    /// Bytes in the whole body.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn into_parts(self) -> Vec<Bytes> {
        self.parts
    }

    /// The answer with this body; the parts also go into its extensions, for the observe hook.
    pub fn respond(self, mut builder: HttpResponseBuilder) -> HttpResponse {
        let mut answer = builder.body(self.clone());
        answer.extensions_mut().insert(self);
        answer
    }
}

impl MessageBody for Spliced {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.len as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let part = this.parts.get_mut(this.next).map(std::mem::take);
        this.next += 1;
        Poll::Ready(part.map(Ok))
    }

    fn try_into_bytes(mut self) -> Result<Bytes, Self>
    where
        Self: Sized,
    {
        match self.parts.len() - self.next.min(self.parts.len()) {
            0 => Ok(Bytes::new()),
            1 => Ok(std::mem::take(&mut self.parts[self.next])),
            _ => Err(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_parts_go_out_in_order_as_one_body_of_their_total_length() {
        let listing = Bytes::from_static(br#"{"TotalCount":1}"#);
        let body = Spliced::new([
            Bytes::from_static(b"<"),
            Bytes::new(),
            listing.clone(),
            Bytes::from_static(b">"),
        ]);
        assert_eq!(body.len(), 18);
        assert_eq!(body.size(), BodySize::Sized(18));
        let answer = body.respond(HttpResponse::Ok());
        let kept = answer.extensions().get::<Spliced>().cloned().unwrap();
        assert_eq!(
            kept.into_parts()[1].as_ptr(),
            listing.as_ptr(),
            "shared, not copied"
        );
        let sent = actix_web::body::to_bytes(answer.into_body()).await.unwrap();
        assert_eq!(&sent[..], br#"<{"TotalCount":1}>"#);
    }

    #[test]
    fn one_part_is_that_part() {
        let only = Bytes::from_static(b"{}");
        let whole = Spliced::new([Bytes::new(), only.clone()]).try_into_bytes();
        assert_eq!(whole.unwrap().as_ptr(), only.as_ptr());
        assert_eq!(Spliced::new([]).try_into_bytes().unwrap(), Bytes::new());
        assert!(Spliced::new([only.clone(), only]).try_into_bytes().is_err());
    }
}
