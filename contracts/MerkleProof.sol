// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice RFC 9162 (Certificate Transparency v2) inclusion proofs over SHA-256, nodes prefixed 0x01.
///         Leaves are given already hashed (with their 0x00 prefix) by the issuer.
library MerkleProof {
    /// @dev RFC 9162 section 2.1.3.2, step by step.
    function verify(bytes32 root, bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata path)
        internal
        pure
        returns (bool)
    {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < path.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), path[i], r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, path[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
