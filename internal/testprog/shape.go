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

package testprog

import "strings"

// ShapeAlike returns s with each letter and digit moved on by one within
// its class (a→b, z→a, 9→0), everything else kept: another secret of the
// same length and shape, so that any check of its form answers the same.
// A test that plants a secret and then its ShapeAlike tells an error that
// quotes the value from one that only describes it.
func ShapeAlike(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+1)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+1)%26
		case r >= '0' && r <= '9':
			return '0' + (r-'0'+1)%10
		}
		return r
	}, s)
}
