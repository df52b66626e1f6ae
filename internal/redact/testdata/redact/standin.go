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

package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
)

// Command standin answers as ECR, STS, an OAuth token endpoint or the GCE
// metadata server would, in the one way its mode names, on a loopback
// address, and logs each request (headers and body) on stderr. capture.sh
// runs the real credential programs against it to record their failure
// output for TestRedactRealLines. Every secret in it is a fake.
//
// Usage: go run standin.go 127.0.0.1:PORT MODE
func main() {
	mode := os.Args[2]
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		log.Printf("%s %s %s target=%q body=%q", r.Method, r.URL, r.Header.Get("Content-Type"), r.Header.Get("X-Amz-Target"), body)
		r.Header.Write(os.Stderr)
		switch mode {
		case "ecr403":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-Requestid", "3f6b1c2e-9a7d-4c1b-8f0e-2d5a6b7c8d9e")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"}`)
		case "ecr400":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-Requestid", "0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`)
		case "ecr500":
			w.WriteHeader(500)
			fmt.Fprint(w, `<html>internal error</html>`)
		case "ecrbadtoken":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"authorizationData":[{"authorizationToken":"bm90LWEtcGFpcg==","expiresAt":1.8e9,"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}]}`)
		case "oauth400":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
		case "oauth401":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`)
		case "sts403":
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(400)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Incorrect token audience</Message></Error><RequestId>7a1b2c3d-0000-4000-8000-000000000001</RequestId></ErrorResponse>`)
		case "oauth200bad":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"ya29.c.b0AXv0zTFAKEFAKEFAKEaccesstoken0123456789","token_type":"Bearer","expires_in":"soon"}`)
		case "meta200bad":
			w.Header().Set("Metadata-Flavor", "Google")
			fmt.Fprint(w, `{"access_token":"ya29.c.b0AXv0zTFAKEFAKEFAKEaccesstoken0123456789","expires_in":"soon","token_type":"Bearer"`)
		case "ecrok":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"authorizationData":[{"authorizationToken":"QVdTOmV5SndZWGxzYjJGa0lqb2labUZyWlMxbFkzSXRkRzlyWlc0dFptOXlMWFJsYzNSekxXOXViSGtpTENKa1lYUmhhMlY1SWpvaVFWRkZRa0ZJYUhkdE1GbGhTVk5LWlVWb2RFNVNXRFprWVZnek5rWkJiRmhOTUc1Mk5FbFZiamN4TUZaemQwRkJJaXdpZG1WeWMybHZiaUk2SWpJaUxDSjBlWEJsSWpvaVJFRlVRVjlMUlZraUxDSmxlSEJwY21GMGFXOXVJam94TnprMU56azRPREF3ZlE9PQ==","expiresAt":1.8e9,"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}]}`)
		case "oauth400tok":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_request","error_description":"token exchange rejected","access_token":"ya29.c.FAKEaccess-token_0123456789abcdefFAKE","refresh_token":"1//0gFAKErefreshTOKEN-0123456789"}`)
		case "meta404":
			w.Header().Set("Metadata-Flavor", "Google")
			w.WriteHeader(404)
			fmt.Fprint(w, "Not Found\n")
		}
	})
	log.Fatal(http.ListenAndServe(os.Args[1], nil))
}
