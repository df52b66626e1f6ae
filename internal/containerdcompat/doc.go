// Package containerdcompat is where nodecred depends on containerd's
// internals: behaviour containerd does not export as an API, which
// nodecred relies on because containerd has no seam for a node credential
// source (containerd issue 8228). docs/containerd-internals.md lists each
// dependency, why it is needed, the test that guards it, the containerd
// minors it was checked on and the upstream seam that would delete it.
//
// Two of the six dependencies live here as code: the re-registration of
// containerd's global plugin registry (Reregister, with the identities of
// the plugins nodecred decorates) and the read of OCIRegistry's unexported
// headers (Headers). The other four stay next to the code that uses them,
// because each is woven into that code's unexported types:
//
//   - the renamed type URL of a transfer message: transfer/service.go and
//     transfer/received.go;
//   - the in-process stream round trip through OCIRegistry.MarshalAny:
//     transfer/rehome.go and transfer/streams.go;
//   - the re-implementations of containerd's credCallback and
//     OCIRegistry.UnmarshalAny: transfer/caller.go and transfer/options.go;
//   - CRI's image config read by its TOML keys, and the wrapped InitFn of
//     CRI's image service: cripull/read.go and cri.go.
//
// Every dependency, these four included, has its contract test in this
// package (contract_*_test.go): each checks containerd alone, not
// nodecred's code, so that a change in containerd fails here first and
// names the dependency. `make compat` runs them on every supported
// containerd minor.
package containerdcompat
