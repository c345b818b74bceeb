package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/lib/pq"
)

// A frozen Postgres (a stopped process, a black-holed link after a
// failover) accepts TCP and never answers. lib/pq cancels a call whose
// context ends by sending a cancel request on a new connection and then
// waits for the server to answer the call, which a frozen server never
// does; database/sql waits for the driver, so the caller would hang past
// any deadline and take a pooled connection with it. pgConnector closes a
// connection's socket when the context of a call on it ends first: the
// blocked read fails at once, lib/pq marks the connection bad and
// database/sql drops it, so later calls get a fresh connection.

// pgConnector opens lib/pq connections whose calls return when their
// context ends, whatever the server does.
type pgConnector struct {
	pq *pq.Connector
}

func newPGConnector(dsn string) (*pgConnector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	// lib/pq's own dialer keeps TCP alive every 5 minutes; so does this one.
	c.Dialer(pgDialer{d: net.Dialer{KeepAlive: 5 * time.Minute}})
	return &pgConnector{pq: c}, nil
}

// Driver implements driver.Connector.
func (c *pgConnector) Driver() driver.Driver { return c.pq.Driver() }

// Connect implements driver.Connector: the handshake too ends with ctx.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	s := &socket{}
	stop := context.AfterFunc(ctx, s.close)
	dc, err := c.pq.Connect(context.WithValue(ctx, socketKey{}, s))
	if !stop() {
		if err == nil {
			// The socket was closed under the handshake's last step.
			_ = dc.Close() // a closed socket leaves nothing to report
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: dc, sock: s}, nil
}

// socketKey carries the *socket that pgDialer records the connection in,
// from Connect through lib/pq to DialContext. lib/pq's cancel requests
// dial without it.
type socketKey struct{}

// socket is the network connection under one lib/pq connection.
type socket struct {
	mu     sync.Mutex
	c      net.Conn // nil before the dial; guarded by mu
	closed bool     // guarded by mu
}

func (s *socket) set(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = c
	if s.closed {
		c.Close()
	}
}

// close closes the socket, now or as soon as it is dialed.
func (s *socket) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.c != nil {
		s.c.Close()
	}
}

func (s *socket) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// pgDialer dials as lib/pq's default dialer does, and records the
// connection in the *socket of the context, if any.
type pgDialer struct{ d net.Dialer }

func (d pgDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if s, _ := ctx.Value(socketKey{}).(*socket); s != nil {
		s.set(c)
	}
	return c, nil
}

// pgConn is a lib/pq connection whose socket is closed when the context
// of a call, of a transaction or of open rows ends before they do. It
// implements the optional interfaces that lib/pq's connection does, so
// database/sql uses it the same way.
type pgConn struct {
	driver.Conn // lib/pq's; the legacy Prepare and Begin are used as they are
	sock        *socket
}

var (
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

// errNoContextSupport reports a driver connection without the context
// methods lib/pq has; it means lib/pq changed.
var errNoContextSupport = errors.New("sqlstore: lib/pq connection lacks a context method")

// watch closes the socket if ctx ends before stop is called.
func (c *pgConn) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, c.sock.close)
}

// ended returns ctx's error when ctx ended during a call that failed: the
// driver's error then only says that the socket was closed.
func ended(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, errNoContextSupport
	}
	stop := c.watch(ctx)
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		stop()
		return nil, ended(ctx, err)
	}
	// Reading the rows reads the socket too: watch until they are closed.
	return &pgRows{Rows: rows, stop: stop}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, errNoContextSupport
	}
	stop := c.watch(ctx)
	defer stop()
	res, err := e.ExecContext(ctx, query, args)
	return res, ended(ctx, err)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errNoContextSupport
	}
	stop := c.watch(ctx)
	defer stop()
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, ended(ctx, err)
	}
	return &pgStmt{Stmt: st, conn: c}, nil
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNoContextSupport
	}
	// database/sql rolls a transaction back when its context ends; on a
	// frozen server that rollback would hang too, so the socket goes.
	stop := c.watch(ctx)
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		stop()
		return nil, ended(ctx, err)
	}
	return &pgTx{Tx: tx, stop: stop}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return errNoContextSupport
	}
	stop := c.watch(ctx)
	defer stop()
	return ended(ctx, p.Ping(ctx))
}

func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.sock.isClosed() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *pgConn) IsValid() bool {
	if c.sock.isClosed() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// pgTx stops watching its context when it ends.
type pgTx struct {
	driver.Tx
	stop func() bool
}

func (t *pgTx) Commit() error {
	defer t.stop()
	return t.Tx.Commit()
}

func (t *pgTx) Rollback() error {
	defer t.stop()
	return t.Tx.Rollback()
}

// pgStmt watches the context of each execution of a prepared statement.
type pgStmt struct {
	driver.Stmt
	conn *pgConn
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	stop := s.conn.watch(ctx)
	defer stop()
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		// lib/pq's COPY statement has only Exec; database/sql would call it
		// so had the statement not been wrapped.
		vals, err := driverValues(args)
		if err != nil {
			return nil, err
		}
		//lint:ignore SA1019 the statement implements only Exec.
		res, err := s.Stmt.Exec(vals)
		return res, ended(ctx, err)
	}
	res, err := e.ExecContext(ctx, args)
	return res, ended(ctx, err)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errNoContextSupport
	}
	stop := s.conn.watch(ctx)
	rows, err := q.QueryContext(ctx, args)
	if err != nil {
		stop()
		return nil, ended(ctx, err)
	}
	return &pgRows{Rows: rows, stop: stop}, nil
}

// driverValues turns positional arguments into the values of the legacy
// Exec, as database/sql does for a statement without ExecContext.
func driverValues(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("sqlstore: named arguments need ExecContext")
		}
		vals[i] = a.Value
	}
	return vals, nil
}

// pgRows stops watching the query's context when closed, and passes on
// the column type methods lib/pq's rows have.
type pgRows struct {
	driver.Rows
	stop func() bool
}

var (
	_ driver.RowsNextResultSet              = (*pgRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*pgRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*pgRows)(nil)
	_ driver.RowsColumnTypeLength           = (*pgRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*pgRows)(nil)
)

func (r *pgRows) Close() error {
	defer r.stop()
	return r.Rows.Close()
}

func (r *pgRows) HasNextResultSet() bool {
	n, ok := r.Rows.(driver.RowsNextResultSet)
	return ok && n.HasNextResultSet()
}

func (r *pgRows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return errors.New("sqlstore: no next result set")
}

func (r *pgRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *pgRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *pgRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
