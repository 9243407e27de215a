package component

import (
	"context"
	"time"
)

// maxWrite bounds a write whose context has no deadline.
const maxWrite = 30 * time.Second

// Detach returns the context to hand mellium for a write, an IQ or a
// handshake on a live connection.
//
// mellium watches that context on a goroutine which, once the context is
// done, sets the connection's deadline in the past to interrupt the I/O in
// progress. When the caller cancels the context just as the call returns
// (defer cancel()), that goroutine may still see it done before it sees the
// call finished, and then interrupts the next read or write on the
// connection — someone else's: a write fails with "i/o timeout", and the
// stream is lost. The context Detach returns is not ended by ctx's
// cancellation, only by ctx's deadline (or max from now when ctx has none
// or a later one), by which time that goroutine is long gone. The price: a
// caller that cancels does not interrupt a blocked write; the deadline
// does.
func Detach(ctx context.Context, max time.Duration) context.Context {
	d, ok := ctx.Deadline()
	if limit := time.Now().Add(max); !ok || d.After(limit) {
		d = limit
	}
	nctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), d)
	time.AfterFunc(time.Until(d)+time.Second, cancel)
	return nctx
}
