//! The read-only guarantee, enforced below everything else that talks to a cluster:
//! every request leaves through this layer, and only `GET` gets past it. Runbooks,
//! views and future code cannot mutate a cluster by mistake, because the client
//! cannot send anything else.

use http::{Method, Request};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{BoxError, Layer, Service};

#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOnlyLayer;

impl<S> Layer<S> for ReadOnlyLayer {
    type Service = ReadOnly<S>;

    fn layer(&self, inner: S) -> ReadOnly<S> {
        ReadOnly { inner }
    }
}

#[derive(Clone, Debug)]
pub struct ReadOnly<S> {
    inner: S,
}

/// A request the layer refused; its text is what a user would see.
#[derive(Debug, thiserror::Error)]
#[error("ktriage is read-only: refused to send {method} {path} (only GET requests leave ktriage)")]
pub struct Refused {
    pub method: Method,
    pub path: String,
}

impl<S, B> Service<Request<B>> for ReadOnly<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if request.method() != Method::GET {
            let refused = Refused {
                method: request.method().clone(),
                path: request.uri().path().to_string(),
            };
            tracing::error!(%refused, "blocked a mutating request");
            return Box::pin(std::future::ready(Err(refused.into())));
        }
        let call = self.inner.call(request);
        Box::pin(async move { call.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records what reaches it, so the test sees what the layer let through.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Method>>>);

    impl Service<Request<()>> for Recorder {
        type Response = ();
        type Error = BoxError;
        type Future = std::future::Ready<Result<(), BoxError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<()>) -> Self::Future {
            self.0.lock().unwrap().push(request.method().clone());
            std::future::ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn only_get_reaches_the_wire() {
        use tower::ServiceExt;
        let recorder = Recorder::default();
        let mut service = ReadOnlyLayer.layer(recorder.clone());
        for method in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
            Method::CONNECT,
        ] {
            let request = Request::builder()
                .method(method.clone())
                .uri("/api/v1/namespaces/shop/pods/web-0")
                .body(())
                .unwrap();
            let err = service
                .ready()
                .await
                .unwrap()
                .call(request)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains(&format!(
                    "refused to send {method} /api/v1/namespaces/shop/pods/web-0"
                )),
                "{err}"
            );
        }
        let get = Request::get("/api/v1/pods").body(()).unwrap();
        service.ready().await.unwrap().call(get).await.unwrap();
        assert_eq!(*recorder.0.lock().unwrap(), vec![Method::GET]);
    }
}
