// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title EvidenceAnchor
 * @notice Public, append-only record of RFC 9162 Merkle log checkpoints.
 *
 * Each anchored checkpoint binds a log (`logId`, the SHA-256 of the log's origin string, computed
 * off-chain) and a tree size to the log's root hash at that size. Anyone can read what was
 * anchored; only submitters allowed by the owner can anchor. Tree sizes of a log only grow, and an
 * anchored root can never be changed: a verifier can therefore trust the chain instead of the
 * service that operates the log.
 *
 * @dev One deployment serves many logs. The latest anchored size of a log lives in a slot of its
 * own; its root is read back from the per-size mapping, so an anchor writes one root and one size.
 * Ownership transfers in two steps, so the submitter set cannot be handed to a mistyped address.
 */
contract EvidenceAnchor {
    /// @notice The caller is not the owner.
    /// @param caller The account that attempted an owner-only call.
    error EvidenceAnchor__NotOwner(address caller);

    /// @notice The caller is not the pending owner of a started ownership transfer.
    /// @param caller The account that attempted to accept ownership.
    error EvidenceAnchor__NotPendingOwner(address caller);

    /// @notice The caller is not an allowed submitter.
    /// @param caller The account that attempted to anchor.
    error EvidenceAnchor__NotSubmitter(address caller);

    /// @notice The zero address was given where an account is required.
    error EvidenceAnchor__ZeroAddress();

    /// @notice The zero hash was given as a root; no Merkle tree has it as its root.
    error EvidenceAnchor__ZeroRoot();

    /**
     * @notice A root is already anchored for this log and tree size.
     * @dev Re-submitting the same checkpoint is not an error for an idempotent submitter: it compares
     * `anchoredRoot` with its own root. Equal means "already done"; different means the log forked.
     * @param logId The log identifier.
     * @param treeSize The tree size that is already anchored.
     * @param anchoredRoot The root anchored for that size.
     */
    error EvidenceAnchor__AlreadyAnchored(bytes32 logId, uint64 treeSize, bytes32 anchoredRoot);

    /**
     * @notice The tree size is not greater than the latest anchored size of the log.
     * @param logId The log identifier.
     * @param latestSize The latest anchored tree size of the log (zero if none).
     * @param treeSize The rejected tree size.
     */
    error EvidenceAnchor__TreeSizeNotIncreasing(bytes32 logId, uint64 latestSize, uint64 treeSize);

    /**
     * @notice A checkpoint was anchored.
     * @param logId The log identifier (SHA-256 of the log's origin string).
     * @param treeSize The tree size of the checkpoint.
     * @param root The root hash of the tree at that size.
     */
    event CheckpointAnchored(bytes32 indexed logId, uint64 indexed treeSize, bytes32 root);

    /// @notice An account was allowed to anchor checkpoints.
    /// @param submitter The allowed account.
    event SubmitterAllowed(address indexed submitter);

    /// @notice An account was no longer allowed to anchor checkpoints.
    /// @param submitter The revoked account.
    event SubmitterRevoked(address indexed submitter);

    /// @notice An ownership transfer was started; it completes when the new owner accepts it.
    /// @param previousOwner The current owner.
    /// @param newOwner The pending owner.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);

    /// @notice Ownership was transferred.
    /// @param previousOwner The former owner (zero at deployment).
    /// @param newOwner The new owner.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @dev Root anchored for each log and tree size; zero where nothing is anchored.
    mapping(bytes32 logId => mapping(uint64 treeSize => bytes32 root)) private _roots;

    /// @dev Latest anchored tree size of each log; zero if the log was never anchored.
    mapping(bytes32 logId => uint64 treeSize) private _latestSize;

    /// @dev Accounts allowed to anchor.
    mapping(address account => bool allowed) private _submitters;

    /// @dev Current owner.
    address private _owner;

    /// @dev Account that may accept a started ownership transfer; zero if none.
    address private _pendingOwner;

    /// @dev Reverts unless the caller is the owner.
    modifier onlyOwner() {
        _checkOwner();
        _;
    }

    /// @notice Makes the deployer the owner and an allowed submitter.
    constructor() {
        _transferOwnership(msg.sender);
        _allowSubmitter(msg.sender);
    }

    /**
     * @notice Anchors the root of a log at a tree size.
     * @dev Reverts with `EvidenceAnchor__AlreadyAnchored` when the size is already anchored (checked
     * before the monotonic check, so a re-submission learns the anchored root), and with
     * `EvidenceAnchor__TreeSizeNotIncreasing` when the size is not above the latest anchored size.
     * Size zero is therefore never anchored: the empty tree carries no evidence.
     * @param logId The log identifier (SHA-256 of the log's origin string).
     * @param treeSize The tree size of the checkpoint.
     * @param root The root hash of the tree at that size; must not be zero.
     */
    function anchor(bytes32 logId, uint64 treeSize, bytes32 root) external {
        if (!_submitters[msg.sender]) {
            revert EvidenceAnchor__NotSubmitter(msg.sender);
        }
        if (root == bytes32(0)) {
            revert EvidenceAnchor__ZeroRoot();
        }
        bytes32 anchoredRoot = _roots[logId][treeSize];
        if (anchoredRoot != bytes32(0)) {
            revert EvidenceAnchor__AlreadyAnchored(logId, treeSize, anchoredRoot);
        }
        uint64 latestSize = _latestSize[logId];
        if (treeSize <= latestSize) {
            revert EvidenceAnchor__TreeSizeNotIncreasing(logId, latestSize, treeSize);
        }
        _roots[logId][treeSize] = root;
        _latestSize[logId] = treeSize;
        emit CheckpointAnchored(logId, treeSize, root);
    }

    /**
     * @notice Allows an account to anchor checkpoints. Allowing an allowed account changes nothing.
     * @param submitter The account to allow; must not be zero.
     */
    function allowSubmitter(address submitter) external onlyOwner {
        if (submitter == address(0)) {
            revert EvidenceAnchor__ZeroAddress();
        }
        _allowSubmitter(submitter);
    }

    /**
     * @notice Stops an account from anchoring checkpoints. Revoking an unknown account changes
     * nothing. What it anchored stays anchored.
     * @param submitter The account to revoke; must not be zero.
     */
    function revokeSubmitter(address submitter) external onlyOwner {
        if (submitter == address(0)) {
            revert EvidenceAnchor__ZeroAddress();
        }
        if (_submitters[submitter]) {
            _submitters[submitter] = false;
            emit SubmitterRevoked(submitter);
        }
    }

    /**
     * @notice Starts transferring ownership; the new owner must call `acceptOwnership`.
     * @dev A later call replaces the pending owner, which is how a mistaken transfer is undone.
     * @param newOwner The proposed owner; must not be zero.
     */
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) {
            revert EvidenceAnchor__ZeroAddress();
        }
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(_owner, newOwner);
    }

    /// @notice Completes an ownership transfer; callable only by the pending owner.
    function acceptOwnership() external {
        if (msg.sender != _pendingOwner) {
            revert EvidenceAnchor__NotPendingOwner(msg.sender);
        }
        _transferOwnership(msg.sender);
    }

    /**
     * @notice Latest anchored checkpoint of a log.
     * @param logId The log identifier.
     * @return treeSize The latest anchored tree size (zero if the log was never anchored).
     * @return root The root anchored at that size (zero if the log was never anchored).
     */
    function latest(bytes32 logId) external view returns (uint64 treeSize, bytes32 root) {
        treeSize = _latestSize[logId];
        root = _roots[logId][treeSize];
    }

    /**
     * @notice Root anchored for a log at a tree size.
     * @param logId The log identifier.
     * @param treeSize The tree size.
     * @return The anchored root, or zero if that size of that log was not anchored.
     */
    function rootAt(bytes32 logId, uint64 treeSize) external view returns (bytes32) {
        return _roots[logId][treeSize];
    }

    /**
     * @notice Whether an account may anchor checkpoints.
     * @param account The account.
     * @return True if the account is an allowed submitter.
     */
    function isSubmitter(address account) external view returns (bool) {
        return _submitters[account];
    }

    /// @notice Current owner, who manages the submitters.
    /// @return The owner's address.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Account that may accept a started ownership transfer.
    /// @return The pending owner's address, or zero if no transfer is pending.
    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    /// @dev Reverts with `EvidenceAnchor__NotOwner` unless the caller is the owner.
    function _checkOwner() private view {
        if (msg.sender != _owner) {
            revert EvidenceAnchor__NotOwner(msg.sender);
        }
    }

    /// @dev Allows `submitter` and emits `SubmitterAllowed` if it was not allowed yet.
    function _allowSubmitter(address submitter) private {
        if (!_submitters[submitter]) {
            _submitters[submitter] = true;
            emit SubmitterAllowed(submitter);
        }
    }

    /// @dev Makes `newOwner` the owner, clears any pending transfer and emits `OwnershipTransferred`.
    function _transferOwnership(address newOwner) private {
        address previousOwner = _owner;
        _owner = newOwner;
        delete _pendingOwner;
        emit OwnershipTransferred(previousOwner, newOwner);
    }
}
