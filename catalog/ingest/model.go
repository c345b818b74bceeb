package ingest

import "github.com/portalbot/portalbot/catalog"

// rejectAlphaOnly fails the documents of p that only Backstage's alpha
// catalog model defines (see catalog.AlphaModelOnly), each with its own
// error, as a Backstage in its default configuration does; the file's
// other entities stand. It does nothing when the Syncer accepts the alpha
// model (Options.AlphaModel).
func (d *discovery) rejectAlphaOnly(p *parsed) {
	if d.s.opts.AlphaModel {
		return
	}
	kept := p.ents[:0]
	for _, e := range p.ents {
		why := catalog.AlphaModelOnly(e)
		if why == "" {
			kept = append(kept, e)
			continue
		}
		p.errs = append(p.errs, catalog.ProcessingError{Line: e.Origin.Line, Message: why + "; set catalog_model: alpha to accept it"})
		p.failed = append(p.failed, e.Ref())
	}
	clear(p.ents[len(kept):]) // drop the references the reslice leaves behind
	p.ents = kept
}
