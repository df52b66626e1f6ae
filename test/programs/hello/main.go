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

// Command hello is the container the cluster suite's pods run: it answers
// every HTTP request on HELLO_ADDRESS with HELLO_TEXT, so that a test which
// reads that text knows the pod's own container is running with the pod's
// spec. The pods use the host's network, so the address is on loopback.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	l, err := net.Listen("tcp", os.Getenv("HELLO_ADDRESS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	fmt.Println("hello: serving on", l.Addr())
	// SIGTERM's default action ends the process, as the runtime expects.
	_ = http.Serve(l, handler(os.Getenv("HELLO_TEXT")))
}

func handler(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, text)
	})
}
