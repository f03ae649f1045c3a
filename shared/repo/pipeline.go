package repo

import (
	"context"
	"fmt"
	"sync"
)

// fetched is one chunk read back by a pipeline, in disk order.
type fetched struct {
	index int64
	id    ChunkID
	sum   [32]byte // the content's SHA-256, verified (unset for a zero chunk)
	data  []byte   // nil for a zero chunk; valid until each returns
	err   error
	done  func() // gives the buffer and the reader's slot back
}

// ref is the next chunk a pipeline must read: index, id (zeroID for a zero chunk), and the
// SHA-256 its content must have (checked when ids are keyed; a plain id is that SHA-256).
type ref struct {
	index int64
	id    ChunkID
	sum   [32]byte
}

// pipeline reads chunks ahead of their consumer, at most concurrency at once.
type pipeline struct {
	rp    *Repo
	lenOf func(int64) int
	order chan chan fetched
	sem   chan struct{}
	pool  sync.Pool
	wg    sync.WaitGroup
}

func noop() {}

// fetchOrdered reads the chunks refs names and hands them to each in order, verified. It
// stops at the first error and returns once every reader has finished. lenOf gives a chunk's
// length.
func (rp *Repo) fetchOrdered(ctx context.Context, refs func() (ref, bool, error), lenOf func(int64) int, each func(fetched) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := rp.opts.concurrency
	p := &pipeline{rp: rp, lenOf: lenOf, order: make(chan chan fetched, n), sem: make(chan struct{}, n)}
	p.pool.New = func() any { b := make([]byte, 0, rp.cfg.ChunkSize); return &b }
	go p.produce(ctx, refs)
	defer p.wg.Wait()
	var err error
	for res := range p.order {
		f := <-res
		if err == nil {
			err = f.err
			if err == nil {
				err = each(f)
			}
			if err != nil {
				cancel() // the producer stops; the loop drains what it queued
			}
		}
		f.done()
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// produce queues one result slot per ref, in order, and starts its reader.
func (p *pipeline) produce(ctx context.Context, refs func() (ref, bool, error)) {
	defer close(p.order)
	for {
		r, ok, err := refs()
		if !ok && err == nil {
			return
		}
		res := make(chan fetched, 1)
		select {
		case p.order <- res:
		case <-ctx.Done():
			return
		}
		switch {
		case err != nil:
			res <- fetched{index: -1, err: err, done: noop}
			return
		case r.id == zeroID:
			res <- fetched{index: r.index, done: noop}
			continue
		}
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			res <- fetched{index: r.index, id: r.id, err: ctx.Err(), done: noop}
			return
		}
		p.wg.Add(1)
		go p.read(ctx, r, res)
	}
}

func (p *pipeline) read(ctx context.Context, r ref, res chan<- fetched) {
	defer p.wg.Done()
	buf := p.pool.Get().(*[]byte)
	data, err := p.rp.readChunk(ctx, r.id, r.sum, p.lenOf(r.index), *buf)
	if err != nil {
		err = fmt.Errorf("chunk %s at offset %d: %w", r.id, r.index*int64(p.rp.cfg.ChunkSize), err)
	}
	res <- fetched{index: r.index, id: r.id, sum: r.sum, data: data, err: err, done: func() {
		if cap(data) >= p.rp.cfg.ChunkSize {
			*buf = data[:0]
		}
		p.pool.Put(buf)
		<-p.sem
	}}
}
