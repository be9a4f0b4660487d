// The peer spec filter, written with the Rust SDK: a request carrying `x-block: true` gets a
// local 403 "blocked\n"; every other response gets the header `x-peer`.
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(PeerRoot) });
}}

struct PeerRoot;

impl Context for PeerRoot {}

impl RootContext for PeerRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Peer))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Peer;

impl Context for Peer {}

impl HttpContext for Peer {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if self.get_http_request_header("x-block").as_deref() == Some("true") {
            self.send_http_response(403, vec![], Some(b"blocked\n"));
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        self.add_http_response_header("x-peer", "rust");
        Action::Continue
    }
}
