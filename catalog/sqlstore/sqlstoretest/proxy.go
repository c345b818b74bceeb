package sqlstoretest

// The proxy freezes the link to a real database server, as a stopped server
// or a black-holed network would, while the server keeps running for others.

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a target address. Frozen, it keeps
// accepting connections and reading what clients send but forwards
// nothing either way, like a server that accepts and never answers; Thaw
// delivers what was held and forwards again. It is safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	done   chan struct{} // closed when the test ends

	mu     sync.Mutex
	frozen bool               // new connections start frozen; guarded by mu
	conns  map[*link]struct{} // guarded by mu
}

// link is one proxied connection and the gate its bytes pass.
type link struct {
	client, server net.Conn

	mu   sync.Mutex
	open chan struct{} // closed while bytes may pass; guarded by mu
}

// StartProxy listens on a free local port and forwards to target until the
// test ends, when it closes every connection.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{target: target, ln: ln, done: make(chan struct{}), conns: map[*link]struct{}{}}
	tb.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			go p.serve(c)
		}
	}()
	return p
}

// Addr is the host:port clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Freeze stops forwarding on every connection, open or new.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
	for l := range p.conns {
		l.setOpen(false)
	}
}

// FreezeOpen stops forwarding on the connections open now; new ones are
// forwarded. This is what clients see after a failover that left their
// pooled connections half-open.
func (p *Proxy) FreezeOpen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.conns {
		l.setOpen(false)
	}
}

// Thaw forwards again on every connection, held bytes first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	for l := range p.conns {
		l.setOpen(true)
	}
}

// Conns returns the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	for l := range p.conns {
		l.client.Close()
		l.server.Close()
	}
}

func (p *Proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	l := &link{client: c, server: up, open: make(chan struct{})}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	default:
	}
	l.setOpen(!p.frozen)
	p.conns[l] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(l, up, c) })
	wg.Go(func() { p.pipe(l, c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, l)
	p.mu.Unlock()
}

// pipe copies src to dst through l's gate; when either side ends, both do.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	defer func() {
		dst.Close()
		src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-l.gate():
			case <-p.done:
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate returns a channel that is closed while bytes may pass.
func (l *link) gate() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func (l *link) setOpen(open bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.open:
		if !open {
			l.open = make(chan struct{})
		}
	default:
		if open {
			close(l.open)
		}
	}
}
