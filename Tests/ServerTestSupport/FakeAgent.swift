import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server

struct FakeAgent {
    let signing = Curve25519.Signing.PrivateKey()
    let sealing = Curve25519.KeyAgreement.PrivateKey()
    var id = "enrolling"
}
