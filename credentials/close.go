package credentials

import (
	"errors"
	"io"
)

// Sources that run programs have a lifecycle: Close stops their renewals
// and runs. The plugin closes its chain when containerd stops.
var (
	_ io.Closer = Chain(nil)
	_ io.Closer = (*HelperSource)(nil)
	_ io.Closer = (*DockerConfigSource)(nil)
)

// Close closes every source of the chain that has a lifecycle (an
// io.Closer).
func (c Chain) Close() error {
	var errs []error
	for _, s := range c {
		if cl, ok := s.Source.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}

// Close stops the helper's renewals; it is not run again.
func (s *HelperSource) Close() error {
	s.helper.cache.Close()
	return nil
}

// Close stops the renewals of every helper the docker config named; none
// is run again.
func (s *DockerConfigSource) Close() error {
	s.helpers.keepOnly(nil, true)
	return nil
}

// keepOnly closes and forgets the clients of helpers not in names, so that
// a helper removed from the docker config is not run or renewed again;
// closed, it also refuses new ones.
func (s *helperSet) keepOnly(names map[string]bool, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = s.closed || closed
	for name, c := range s.clients {
		if !names[name] {
			c.cache.Close()
			delete(s.clients, name)
		}
	}
}

// helperNames are the helpers a docker config names.
func (c DockerConfig) helperNames() map[string]bool {
	names := map[string]bool{}
	for _, name := range c.helpers {
		if name != "" {
			names[name] = true
		}
	}
	if c.store != "" {
		names[c.store] = true
	}
	return names
}

// errSourceClosed is a lookup on a source closed at shutdown.
var errSourceClosed = errors.New("credential source closed: containerd is stopping")
