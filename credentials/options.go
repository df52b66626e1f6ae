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

package credentials

// Option changes how a source that runs programs (helper, kubelet, and the
// helpers a docker config names) treats its programs' answers.
type Option func(*sourceOptions)

type sourceOptions struct {
	renew bool
}

// WithRenewal turns renewal ahead of expiry on or off; it is on by default.
// Off, a source behaves as the kubelet does: an answer is used until it
// expires, and the next lookup waits for a new run.
func WithRenewal(on bool) Option {
	return func(o *sourceOptions) { o.renew = on }
}

// Renewal reports whether opts leave renewal on: what a source that runs
// programs reads of its options.
func Renewal(opts ...Option) bool {
	o := sourceOptions{renew: true}
	for _, opt := range opts {
		opt(&o)
	}
	return o.renew
}
