package wsapi

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes used by the server.
const (
	closeNormal    = websocket.CloseNormalClosure     // 1000: logout, Tab.Close
	closeGoingAway = websocket.CloseGoingAway         // 1001: shutdown
	closePolicy    = websocket.ClosePolicyViolation   // 1008: abuse, too many tabs
	closeInternal  = websocket.CloseInternalServerErr // 1011
	// closeReplaced (4000): a resume took over this session.
	closeReplaced = 4000
)

// conn is one WebSocket connection: a reader (the ServeHTTP goroutine) and
// a writer goroutine. The writer takes its frames from the tab's replay
// buffer: the messages not yet written are the bounded write queue.
type conn struct {
	s          *Server
	ws         *websocket.Conn
	tab        *Tab   // set by attachLocked
	hello      []byte // the session message, written first
	wake       chan struct{}
	done       chan struct{} // closed when the connection is to close
	readerDone chan struct{}
	once       sync.Once
	closeCode  int
	closeText  string
	flush      bool

	// Guarded by tab.mu.
	sent      uint64 // highest seq handed to the writer
	allowance int    // replay backlog at attach, on top of WriteQueue
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	return &conn{
		s:          s,
		ws:         ws,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
}

func (c *conn) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// closeWith asks the writer to send a close frame (after the pending
// messages if flush) and end the connection.
func (c *conn) closeWith(code int, text string, flush bool) {
	c.once.Do(func() {
		c.closeCode, c.closeText, c.flush = code, text, flush
		close(c.done)
	})
}

// kill closes the connection at once, without a close frame. It never
// blocks.
func (c *conn) kill() {
	c.once.Do(func() { close(c.done) })
	_ = c.ws.NetConn().Close()
}

func (c *conn) write(data []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteWait))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	o := &c.s.opts
	ticker := time.NewTicker(o.PingInterval)
	defer ticker.Stop()
	if err := c.write(c.hello); err != nil {
		c.kill()
		return
	}
	for {
		frames := c.tab.take(c)
		for _, f := range frames {
			if err := c.write(f.data); err != nil {
				c.kill()
				return
			}
		}
		if len(frames) > 0 && !c.closing() {
			continue
		}
		select {
		case <-c.wake:
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(o.WriteWait)); err != nil {
				c.kill()
				return
			}
		case <-c.done:
			if c.closeCode == 0 {
				return // killed
			}
			if c.flush {
				for _, f := range c.tab.take(c) {
					if err := c.write(f.data); err != nil {
						c.kill()
						return
					}
				}
			}
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(o.WriteWait))
			// Wait a little for the browser's close frame, then give up.
			_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(min(o.WriteWait, 2*time.Second)))
			return
		}
	}
}

// readLoop reads frames until the connection fails, then detaches the
// connection from its tab. fresh is true for a new session.
func (c *conn) readLoop(ctx context.Context, fresh bool) {
	t, o := c.tab, &c.s.opts
	defer func() {
		c.kill()
		t.detach(c)
		close(c.readerDone)
	}()
	c.ws.SetReadLimit(o.ReadLimit)
	alive := func() {
		if !c.closing() {
			_ = c.ws.SetReadDeadline(time.Now().Add(o.PongWait))
		}
	}
	alive()
	c.ws.SetPongHandler(func(string) error { alive(); return nil })
	if fresh {
		_ = t.call(ctx, func(ctx context.Context, h Handler) error { h.TabOpened(ctx, t); return nil })
	}
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			c.logReadError(err)
			return
		}
		if c.closing() {
			continue // draining until the close handshake ends
		}
		alive()
		t.handleFrame(ctx, c, mt == websocket.BinaryMessage, data)
	}
}

func (c *conn) logReadError(err error) {
	log := c.s.log.With("jid", c.tab.jid.String())
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		log.Info("message over the read limit; connection closed with 1009", "limit", c.s.opts.ReadLimit)
	case errors.As(err, &ce):
		log.Debug("browser closed the connection", "code", ce.Code, "text", ce.Text)
	case errors.As(err, &ne) && ne.Timeout() && !c.closing():
		log.Info("browser stopped answering pings; connection dropped")
	default:
		log.Debug("connection ended", "err", err)
	}
}
