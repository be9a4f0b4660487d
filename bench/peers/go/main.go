// The peer spec filter, written with the Go SDK (proxy-wasm-go-sdk, Go's wasip1 target): a
// request carrying `x-block: true` gets a local 403 "blocked\n"; every other response gets the
// header `x-peer`.
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

type plugin struct{ types.DefaultPluginContext }

func (*plugin) NewHttpContext(uint32) types.HttpContext { return &peer{} }

type peer struct{ types.DefaultHttpContext }

var blocked = []byte("blocked\n")

func (*peer) OnHttpRequestHeaders(int, bool) types.Action {
	if value, err := proxywasm.GetHttpRequestHeader("x-block"); err == nil && value == "true" {
		if err := proxywasm.SendHttpResponse(403, nil, blocked, -1); err != nil {
			proxywasm.LogErrorf("peer: local reply failed: %v", err)
		}
		return types.ActionPause
	}
	return types.ActionContinue
}

func (*peer) OnHttpResponseHeaders(int, bool) types.Action {
	if err := proxywasm.AddHttpResponseHeader("x-peer", "go"); err != nil {
		proxywasm.LogErrorf("peer: cannot add x-peer: %v", err)
	}
	return types.ActionContinue
}
