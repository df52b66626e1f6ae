/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

// Package containerdcompat is where nodecred depends on containerd's
// internals: behaviour containerd does not export as an API, which
// nodecred relies on because containerd has no seam for a node credential
// source (containerd issue 8228). docs/containerd-internals.md lists each
// dependency, why it is needed, the test that guards it, the containerd
// minors it was checked on and the upstream seam that would delete it.
//
// Here as code:
//
//   - plugins.go: the re-registration of containerd's global plugin
//     registry (Reregister), with the identities of the plugins nodecred
//     decorates;
//   - headers.go: the read of OCIRegistry's unexported headers (Headers);
//   - streams.go: the in-process stream round trip through
//     OCIRegistry.MarshalAny (ReadBack, LocalStreams), which relies on its
//     serving loop going on after a failing credential helper;
//   - caller.go and unmarshal.go: the re-implementations of containerd's
//     credCallback (CallerCredentials, ClientStream) and of what
//     OCIRegistry.UnmarshalAny does with a message (BuildRegistry,
//     MessageHeaders, DebugOutput).
//
// Two stay next to the code that uses them, because each is one type of
// that code: the renamed type URL of a transfer message (transfer/service.go
// and transfer/received.go, whose receivedRegistry is the type the new URL
// resolves to) and the reading of CRI's pull mode (cripull/read.go, which
// reads CRI's image config by its TOML keys into cripull's Settings, and
// cri.go, which wraps the InitFn of CRI's image service).
//
// Every dependency has its contract test in this package
// (contract_*_test.go). Each checks containerd itself rather than
// nodecred's use of it, so that a change in containerd fails here first and
// names the dependency. `make compat` runs them on every supported
// containerd minor.
package containerdcompat
