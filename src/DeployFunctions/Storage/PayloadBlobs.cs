using Azure;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>The payload of a claim-checked delivery is gone (deleted or lost); the message cannot be handled.</summary>
public sealed class PayloadMissingException : Exception
{
    public PayloadMissingException()
    {
    }

    public PayloadMissingException(string message)
        : base(message)
    {
    }

    public PayloadMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Claim-check payloads, one blob per queue message. The rule that keeps them from being lost: a blob belongs to exactly
/// one message. It is written before its message is sent (deleted again if the send fails), written afresh when a
/// message is re-enqueued or moved to poison, and deleted when its message completes. Nothing else deletes payloads:
/// no age-based rule, since a waiting or poisoned message may outlive any age.
/// </summary>
public sealed class PayloadBlobs(BlobServiceClient blobs, IOptions<StorageNamesOptions> names)
{
    /// <summary>Stores a payload under a new name of its own; returns the reference (<c>container/name</c>) a message carries.</summary>
    public async Task<string> UploadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(names.Value.PayloadContainer);
        var name = $"{DateTimeOffset.UtcNow:yyyy-MM-dd}/{Guid.NewGuid():N}.json";
        var blob = container.GetBlobClient(name);
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(payload), overwrite: false, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.ErrorCode == "ContainerNotFound")
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await blob.UploadAsync(BinaryData.FromBytes(payload), overwrite: false, cancellationToken);
        }

        return $"{container.Name}/{name}";
    }

    public async Task<ReadOnlyMemory<byte>> DownloadAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            var content = await Blob(reference).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToMemory();
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            throw new PayloadMissingException($"the payload blob {reference} does not exist", exception);
        }
    }

    /// <summary>Deletes a payload whose message is done with it; a blob already gone is fine.</summary>
    public async Task DeleteAsync(string reference, CancellationToken cancellationToken) =>
        await Blob(reference).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    private BlobClient Blob(string reference)
    {
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == reference.Length - 1)
        {
            throw new InvalidDataException($"The payload blob reference '{reference}' is malformed.");
        }

        return blobs.GetBlobContainerClient(reference[..slash]).GetBlobClient(reference[(slash + 1)..]);
    }
}
