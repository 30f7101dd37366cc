// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Trust Anchor — trust registry
/// @notice Who is trusted, by whom, since when: member parties (one per jurisdiction) governed m-of-n,
///         their national certificate authorities, their issuing agencies' accounts and who recognizes
///         whom for which document types. Every status change carries an effective time and is kept as
///         history, so every question can be asked "at time T". Every change emits an event complete
///         enough to rebuild the whole state from logs alone.
/// @dev Document types are bit indexes 0..63 in a uint64 mask; the off-chain catalogue names them.
interface ITrustRegistry {
    /// @notice Lifecycle of a CA or an issuer account. Revoked is final.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice What a consortium proposal changes.
    enum ProposalKind {
        AddParty,
        RemoveParty,
        SetThreshold,
        SetOneTimeTypes
    }

    /// @notice The one role an account holds for one party. An account never holds two roles, nor a role
    ///         for two parties: a leaked key can do only what its one role allows.
    enum Role {
        None,
        Admin,
        Issuer,
        Consumer,
        Witness
    }

    /// @notice One entry of a status history. `effectiveAt` may lie before `recordedAt`
    ///         (a backdated revocation, like a CRL invalidity date).
    struct StatusChange {
        Status status;
        uint40 effectiveAt;
        uint40 recordedAt;
        uint8 reason;
    }

    struct CertificateAuthority {
        bytes8 party;
        uint64 notBefore;
        uint64 notAfter;
        uint64 docTypes;
        Status status;
        uint40 registeredAt;
        uint40 revokedAt;
    }

    struct Issuer {
        bytes8 party;
        bytes32 ca;
        uint64 docTypes;
        Status status;
        uint40 authorizedAt;
        uint40 revokedAt;
    }

    struct RecognitionChange {
        uint64 docTypes;
        uint40 effectiveAt;
    }

    struct MembershipChange {
        bool member;
        uint40 at;
    }

    /// @notice A consortium proposal. `docTypes` is the new one-time mask for SetOneTimeTypes.
    struct Proposal {
        ProposalKind kind;
        bytes8 party;
        address account;
        uint16 threshold;
        uint64 docTypes;
        bytes8 proposer;
        uint40 createdAt;
        uint40 expiresAt;
        bool executed;
        uint16 approvals;
    }

    /// @notice A party's pending change of its own admins: executable once a majority of the party's admins
    ///         approved it, or once `readyAt` passed without any other admin cancelling it.
    struct AdminChange {
        bytes8 party;
        address account;
        bool add;
        address proposer;
        uint40 createdAt;
        uint40 readyAt;
        uint40 expiresAt;
        bool executed;
        bool cancelled;
        uint16 approvals;
    }

    /// @notice Everything a verifier needs to judge one anchoring, read in one call.
    struct VerificationContext {
        Issuer issuer;
        Status issuerStatusAtTime;
        bool issuerPartyMemberAtTime;
        CertificateAuthority ca;
        Status caStatusAtTime;
        bool recognizedAtTime;
        bool recognizedNow;
        bool verifierMember;
    }

    // ---- errors ----
    /// @notice The caller is not an admin account of any party.
    error NotPartyAdmin(address account);
    /// @notice `party` is not a member (now).
    error PartyNotMember(bytes8 party);
    /// @notice `party` is a member already.
    error PartyAlreadyMember(bytes8 party);
    /// @notice A party code may not be zero.
    error InvalidPartyId(bytes8 party);
    /// @notice Removing `account` would leave `party` without an admin.
    error LastAdmin(bytes8 party, address account);
    /// @notice `account` is not an admin of `party`.
    error NotAdminOfParty(address account, bytes8 party);
    /// @notice A threshold must lie in 1..members.
    error InvalidThreshold(uint256 threshold, uint256 members);
    /// @notice No proposal `proposalId` exists.
    error InvalidProposal(uint256 proposalId);
    /// @notice Proposal `proposalId` expired at `expiresAt`.
    error ProposalExpired(uint256 proposalId, uint40 expiresAt);
    /// @notice Proposal `proposalId` was executed already.
    error ProposalAlreadyExecuted(uint256 proposalId);
    /// @notice `party` approved proposal `proposalId` already (in its current membership).
    error AlreadyApproved(uint256 proposalId, bytes8 party);
    /// @notice Proposal `proposalId` has `approvals` valid approvals of the `threshold` it needs.
    error InsufficientApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    /// @notice The last member party cannot be removed.
    error CannotRemoveLastParty(bytes8 party);
    /// @notice The zero address is never an account.
    error ZeroAddress();
    /// @notice `party` registered CA `fingerprint` already.
    error CAAlreadyRegistered(bytes32 fingerprint, bytes8 party);
    /// @notice No CA `fingerprint` is registered.
    error UnknownCA(bytes32 fingerprint);
    /// @notice CA `fingerprint` belongs to `owner`, not to the caller's party.
    error NotYourCA(bytes32 fingerprint, bytes8 owner, bytes8 caller);
    /// @notice A CA's validity period must not be empty.
    error InvalidValidity(uint64 notBefore, uint64 notAfter);
    /// @notice A document type mask may not be empty.
    error EmptyDocumentTypes();
    /// @notice Issuer types `requested` exceed the types `allowed` for CA `fingerprint`.
    error DocumentTypesNotAllowedForCA(bytes32 fingerprint, uint64 requested, uint64 allowed);
    /// @notice CA `fingerprint` is not active.
    error CANotActive(bytes32 fingerprint, Status status);
    /// @notice `account` is not an issuer account.
    error UnknownIssuer(address account);
    /// @notice Issuer `account` belongs to `owner`, not to the caller's party.
    error NotYourIssuer(address account, bytes8 owner, bytes8 caller);
    /// @notice A status may not go from `from` to `to` (revoked is final).
    error InvalidStatusTransition(Status from, Status to);
    /// @notice An effective time may not lie in the future.
    error EffectiveTimeInFuture(uint40 effectiveAt, uint40 nowTime);
    /// @notice An effective time may not lie before the previous change's.
    error EffectiveTimeBeforeLastChange(uint40 effectiveAt, uint40 lastEffectiveAt);
    /// @notice A party recognizes its own CAs implicitly.
    error CannotRecognizeSelf(bytes8 party);
    /// @notice `account` already holds `role` for `party`: one account, one role, one party.
    error AccountHasRole(address account, bytes8 party, Role role);
    /// @notice `account` is the proposed admin of open AddParty proposal `proposalId`.
    error AccountReserved(address account, uint256 proposalId);
    /// @notice A CA must be registered with its certificate.
    error EmptyCertificate();
    /// @notice `account` is not a consumer account of `party`.
    error NotConsumerOfParty(address account, bytes8 party);
    /// @notice `account` is not a witness account of `party`.
    error NotWitnessOfParty(address account, bytes8 party);
    /// @notice No admin change `changeId` exists.
    error UnknownAdminChange(uint256 changeId);
    /// @notice Admin change `changeId` was executed, cancelled or has expired.
    error AdminChangeClosed(uint256 changeId);
    /// @notice Admin change `changeId` has `approvals` of the `needed` approvals and its delay runs until
    ///         `readyAt`.
    error AdminChangeNotReady(uint256 changeId, uint16 approvals, uint16 needed, uint40 readyAt);
    /// @notice Admin `admin` approved admin change `changeId` already.
    error AdminChangeAlreadyApproved(uint256 changeId, address admin);
    /// @notice The admin whose removal change `changeId` proposes may not cancel it.
    error CannotCancelOwnRemoval(uint256 changeId, address admin);
    /// @notice A recognition may not take effect before `admittedAt`, when a party of it (re)joined.
    error EffectiveTimeBeforeAdmission(uint40 effectiveAt, uint40 admittedAt);

    // ---- events ----
    /// @notice `party` joined with its first admin `admin` by proposal `proposalId` (0 at deployment).
    event PartyAdded(bytes8 indexed party, address admin, uint256 indexed proposalId);
    /// @notice `party` left by proposal `proposalId`; its admins, issuers, consumers and witnesses lose their roles and
    ///         the recognitions given to it and by it end (each with its own event).
    event PartyRemoved(bytes8 indexed party, uint256 indexed proposalId);
    /// @notice `admin` became an admin account of `party`.
    event AdminAdded(bytes8 indexed party, address indexed admin);
    /// @notice `admin` is no longer an admin account of `party`.
    event AdminRemoved(bytes8 indexed party, address indexed admin);
    /// @notice The governance threshold changed (proposal 0: at deployment or by a removal).
    event ThresholdChanged(uint256 oldThreshold, uint256 newThreshold, uint256 indexed proposalId);
    /// @notice `proposer` proposed a consortium change; it counts as its first approval.
    event ProposalCreated(
        uint256 indexed proposalId,
        ProposalKind kind,
        bytes8 indexed proposer,
        bytes8 party,
        address account,
        uint16 threshold,
        uint64 docTypes,
        uint40 expiresAt
    );
    /// @notice `party` approved proposal `proposalId`.
    event ProposalApproved(uint256 indexed proposalId, bytes8 indexed party);
    /// @notice Proposal `proposalId` took effect with `approvals` valid approvals.
    event ProposalExecuted(uint256 indexed proposalId, uint16 approvals);
    /// @notice `party` registered a CA; `fingerprint` is its party-bound CA id (see `caId`).
    event CARegistered(
        bytes32 indexed fingerprint,
        bytes8 indexed party,
        uint64 notBefore,
        uint64 notAfter,
        uint64 docTypes,
        uint40 effectiveAt
    );
    /// @notice CA `fingerprint` of `party` changed status, effective at `effectiveAt` (may be backdated).
    event CAStatusChanged(
        bytes32 indexed fingerprint, bytes8 indexed party, Status status, uint40 effectiveAt, uint8 reason
    );
    /// @notice `account` became an issuer account of `party` under CA id `ca`.
    event IssuerAuthorized(
        address indexed account, bytes8 indexed party, bytes32 ca, uint64 docTypes, uint40 effectiveAt
    );
    /// @notice Issuer `account` of `party` changed status, effective at `effectiveAt`.
    event IssuerStatusChanged(
        address indexed account, bytes8 indexed party, Status status, uint40 effectiveAt, uint8 reason
    );
    /// @notice The certificate behind CA id `fingerprint` (its SHA-256 is `certificateHash`) and the proof
    ///         that `party` holds the CA key: the key's signature over the message in docs/security.md.
    ///         Checked by the registering party's tools and by every audit: a Paris EVM cannot verify
    ///         P-256 or RSA signatures.
    event CACertificatePublished(
        bytes32 indexed fingerprint,
        bytes8 indexed party,
        bytes32 certificateHash,
        bytes certificate,
        bytes proofOfPossession
    );
    /// @notice `account` may now consume (use up) one-time documents destined to `party`.
    event ConsumerGranted(bytes8 indexed party, address indexed account);
    /// @notice `account` may no longer consume documents for `party`.
    event ConsumerRevoked(bytes8 indexed party, address indexed account);
    /// @notice `account` may now co-sign registry checkpoints for `party` (a witness key signs off chain;
    ///         verifiers count its signatures toward a checkpoint's witness threshold).
    event WitnessGranted(bytes8 indexed party, address indexed account);
    /// @notice `account` no longer witnesses for `party`; checkpoints it signs from now on do not count.
    event WitnessRevoked(bytes8 indexed party, address indexed account);
    /// @notice Admin `proposer` of `party` proposed to add or remove admin `account`.
    event AdminChangeProposed(
        uint256 indexed changeId,
        bytes8 indexed party,
        address account,
        bool add,
        address proposer,
        uint40 readyAt,
        uint40 expiresAt
    );
    /// @notice Admin `admin` approved admin change `changeId`.
    event AdminChangeApproved(uint256 indexed changeId, address indexed admin);
    /// @notice Admin `admin` cancelled admin change `changeId`.
    event AdminChangeCancelled(uint256 indexed changeId, address indexed admin);
    /// @notice Admin change `changeId` took effect (AdminAdded or AdminRemoved precedes it).
    event AdminChangeExecuted(uint256 indexed changeId, uint16 approvals);
    /// @notice The consortium changed which document types are one-time (consumable).
    event OneTimeTypesChanged(uint64 oldDocTypes, uint64 newDocTypes, uint256 indexed proposalId);
    /// @notice `recognizer` now recognizes `recognized`'s CAs for `newDocTypes`, effective `effectiveAt`.
    event RecognitionChanged(
        bytes8 indexed recognizer, bytes8 indexed recognized, uint64 oldDocTypes, uint64 newDocTypes, uint40 effectiveAt
    );

    // ---- governance of the consortium (m-of-n member parties) ----
    /// @notice Propose a membership, threshold or one-time-types change; the proposer's party approves it
    ///         at once. An AddParty proposal reserves its admin account while it is open.
    /// @param docTypes the new one-time mask (SetOneTimeTypes only).
    function propose(ProposalKind kind, bytes8 party, address account, uint16 threshold, uint64 docTypes)
        external
        returns (uint256 proposalId);
    /// @notice Approve an open, unexpired proposal on behalf of the caller's party.
    function approve(uint256 proposalId) external;
    /// @notice Execute a proposal approved by at least `threshold` parties that are members now and have
    ///         not left and rejoined since they approved.
    function execute(uint256 proposalId) external;

    // ---- a party's own admins (majority of its admins, or a delay the other admins can cancel) ----
    /// @notice An admin proposes to add or remove an admin of its own party; counts as its approval.
    function proposeAdminChange(address account, bool add) external returns (uint256 changeId);
    /// @notice Another admin of the same party approves a pending admin change.
    function approveAdminChange(uint256 changeId) external;
    /// @notice Any admin of the same party cancels a pending admin change, except the admin it removes.
    function cancelAdminChange(uint256 changeId) external;
    /// @notice Carry out an admin change approved by a majority of the party's admins, or whose delay
    ///         passed uncancelled. Only an admin of the party may call it.
    function executeAdminChange(uint256 changeId) external;

    // ---- consumer accounts (a border service's key: consume and endorse only) ----
    /// @notice The caller's party lets `account` consume one-time documents destined to it.
    function grantConsumer(address account) external;
    /// @notice The caller's party withdraws `account`'s consumer role.
    function revokeConsumer(address account) external;

    // ---- witness accounts (a party's checkpoint co-signing key: signs off chain, nothing on chain) ----
    /// @notice The caller's party lets `account` co-sign registry checkpoints for it.
    function grantWitness(address account) external;
    /// @notice The caller's party withdraws `account`'s witness role.
    function revokeWitness(address account) external;

    // ---- certificate authorities (a party manages only its own) ----
    /// @notice Register a CA of the caller's party. Its id is `caId(party, sha256(certificate))`, so
    ///         another party registering the same certificate neither blocks nor impersonates this one.
    /// @param proofOfPossession the CA key's signature over the message in docs/security.md.
    function addCA(
        bytes calldata certificate,
        uint64 notBefore,
        uint64 notAfter,
        uint64 docTypes,
        bytes calldata proofOfPossession
    ) external returns (bytes32 fingerprint);
    /// @notice Suspend an own CA. @param effectiveAt 0 means now; never in the future; not before the
    ///         previous change.
    function suspendCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external;
    /// @notice Resume a suspended own CA.
    function resumeCA(bytes32 fingerprint, uint40 effectiveAt) external;
    /// @notice Revoke an own CA for good. @param effectiveAt 0 means now; may lie in the past (key
    ///         compromise): documents anchored after it become invalid while earlier ones stay valid.
    function revokeCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external;

    // ---- issuer accounts (a party manages only its own) ----
    /// @notice Let `account` anchor batches of `docTypes` signed under own CA `ca`.
    function authorizeIssuer(address account, bytes32 ca, uint64 docTypes) external;
    /// @notice Suspend an own issuer account.
    function suspendIssuer(address account, uint40 effectiveAt, uint8 reason) external;
    /// @notice Resume a suspended own issuer account.
    function resumeIssuer(address account, uint40 effectiveAt) external;
    /// @notice Revoke an own issuer account for good (may be backdated).
    function revokeIssuer(address account, uint40 effectiveAt, uint8 reason) external;

    // ---- recognition ----
    /// @notice The caller's party starts recognizing `party`'s CAs for `docTypes` (added to what it had).
    function recognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external;
    /// @notice The caller's party withdraws recognition of `party`'s CAs for `docTypes`.
    function unrecognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external;

    // ---- views ----
    /// @notice The DocumentRegistry bound to this registry for good.
    function documentRegistry() external view returns (address);
    /// @notice Approvals a consortium proposal needs.
    function threshold() external view returns (uint256);
    /// @notice Seconds a consortium proposal stays open.
    function proposalLifetime() external view returns (uint256);
    /// @notice Seconds an admin change waits for approvals before it may run uncancelled.
    function adminDelay() external view returns (uint256);
    /// @notice Document types that are one-time: only they can be consumed or endorsed.
    function oneTimeDocTypes() external view returns (uint64);
    /// @notice Number of member parties now.
    function memberCount() external view returns (uint256);
    /// @notice Every party that was ever a member, in order of first admission.
    function parties() external view returns (bytes8[] memory);
    /// @notice Is `party` a member now?
    function isMember(bytes8 party) external view returns (bool);
    /// @notice Was `party` a member at `time`?
    function isMemberAt(bytes8 party, uint40 time) external view returns (bool);
    /// @notice Every admission and removal of `party`.
    function membershipHistory(bytes8 party) external view returns (MembershipChange[] memory);
    /// @notice The party `account` is an admin of (zero if none).
    function adminParty(address account) external view returns (bytes8);
    /// @notice The party `account` consumes for (zero if none).
    function consumerParty(address account) external view returns (bytes8);
    /// @notice The party `account` witnesses for (zero if none).
    function witnessParty(address account) external view returns (bytes8);
    /// @notice `party`'s witness accounts now.
    function witnesses(bytes8 party) external view returns (address[] memory);
    /// @notice The role `account` holds and for which party.
    function roleOf(address account) external view returns (Role role, bytes8 party);
    /// @notice `party`'s admin accounts now.
    function admins(bytes8 party) external view returns (address[] memory);
    /// @notice `party`'s consumer accounts now.
    function consumers(bytes8 party) external view returns (address[] memory);
    /// @notice Number of consortium proposals made.
    function proposalCount() external view returns (uint256);
    /// @notice Consortium proposal `proposalId` (approvals counted now unless executed).
    function proposal(uint256 proposalId) external view returns (Proposal memory);
    /// @notice Did `party` approve `proposalId` (in any membership)?
    function hasApproved(uint256 proposalId, bytes8 party) external view returns (bool);
    /// @notice Number of admin changes proposed.
    function adminChangeCount() external view returns (uint256);
    /// @notice Admin change `changeId`.
    function adminChange(uint256 changeId) external view returns (AdminChange memory);
    /// @notice The CA id of certificate hash `certificateHash` registered by `party`.
    function caId(bytes8 party, bytes32 certificateHash) external pure returns (bytes32);
    /// @notice CA `fingerprint` (a CA id).
    function ca(bytes32 fingerprint) external view returns (CertificateAuthority memory);
    /// @notice Every status change of CA `fingerprint`.
    function caHistory(bytes32 fingerprint) external view returns (StatusChange[] memory);
    /// @notice CA `fingerprint`'s status at `time`.
    function caStatusAt(bytes32 fingerprint, uint40 time) external view returns (Status);
    /// @notice `party`'s CA ids.
    function partyCAs(bytes8 party) external view returns (bytes32[] memory);
    /// @notice Issuer account `account`.
    function issuer(address account) external view returns (Issuer memory);
    /// @notice Every status change of issuer `account`.
    function issuerHistory(address account) external view returns (StatusChange[] memory);
    /// @notice Issuer `account`'s status at `time`.
    function issuerStatusAt(address account, uint40 time) external view returns (Status);
    /// @notice `party`'s issuer accounts, ever.
    function partyIssuers(bytes8 party) external view returns (address[] memory);
    /// @notice The types `recognizer` recognized `recognized` for at `time`. A party's removal ends every
    ///         recognition given to it and by it (RecognitionChanged to 0), so rejoining restores nothing.
    function recognitionAt(bytes8 recognizer, bytes8 recognized, uint40 time) external view returns (uint64);
    /// @notice Every recognition change of `recognizer` towards `recognized`.
    function recognitionHistory(bytes8 recognizer, bytes8 recognized)
        external
        view
        returns (RecognitionChange[] memory);
    /// @notice Does party `recognizer` recognize CA `fingerprint` for `docType` at `time`?
    ///         A party recognizes its own CAs for the types they are registered for.
    function recognizesCAAt(bytes8 recognizer, bytes32 fingerprint, uint8 docType, uint40 time)
        external
        view
        returns (bool);
    /// @notice Does `recognizer` recognize issuer `account`'s CA for `docType` at `time`?
    function recognizesIssuerAt(bytes8 recognizer, address account, uint8 docType, uint40 time)
        external
        view
        returns (bool);
    /// @notice Was an anchoring by `account` at `time` valid by the registry's own rules: the account and its
    ///         CA active then (a backdated revocation covering `time` makes it invalid), its party a member?
    function anchoringValidAt(address account, uint40 time) external view returns (bool);
    /// @notice The issuer account, its CA and their statuses at `time` (the anchoring time), and whether
    ///         `verifier` recognized that CA for `docType` then and recognizes it now.
    function verificationContext(address account, uint8 docType, bytes8 verifier, uint40 time)
        external
        view
        returns (VerificationContext memory);
}
