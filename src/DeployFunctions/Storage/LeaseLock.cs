using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>Mutual exclusion across function instances, and a small record kept under the lock.</summary>
public interface ILeaseLocks
{
    /// <summary>The lock named <paramref name="key"/>, or null when another holder has it.</summary>
    Task<ILeaseLock?> TryAcquireAsync(string key, CancellationToken cancellationToken);
}

public interface ILeaseLock : IAsyncDisposable
{
    /// <summary>Values recorded under this lock by earlier holders (e.g. the deployment a merge created).</summary>
    IReadOnlyDictionary<string, string> Record { get; }

    /// <summary>Replaces the record; only the holder can.</summary>
    Task SaveAsync(IReadOnlyDictionary<string, string> record, CancellationToken cancellationToken);
}

/// <summary>
/// Locks are blob leases in the container <c>LockContainer</c>: 60 s leases renewed every 20 s while held, so a
/// crashed holder frees its lock within a minute. The record is the blob's metadata.
/// </summary>
public sealed class BlobLeaseLocks(BlobServiceClient blobs, IOptions<StorageNamesOptions> names) : ILeaseLocks
{
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(20);

    public async Task<ILeaseLock?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var container = blobs.GetBlobContainerClient(names.Value.LockContainer);
        var blob = container.GetBlobClient(BlobName(key));
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.ErrorCode == "ContainerNotFound")
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            return await TryAcquireAsync(key, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412)
        {
            // The blob exists already (BlobAlreadyExists, or LeaseIdMissing while someone holds it): fine.
        }

        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LeaseDuration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            return null;
        }

        var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
        return new Held(blob, lease, new Dictionary<string, string>(properties.Value.Metadata));
    }

    /// <summary>Blob names allow most characters; keep them readable and bounded.</summary>
    private static string BlobName(string key)
    {
        var safe = new string([.. key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' ? c : '_')]);
        return safe.Length <= 900 ? safe : safe[..900];
    }

    private sealed class Held : ILeaseLock
    {
        private readonly BlobClient blob;
        private readonly BlobLeaseClient lease;
        private readonly CancellationTokenSource stop = new();
        private readonly Task renewing;

        public Held(BlobClient blob, BlobLeaseClient lease, IReadOnlyDictionary<string, string> record)
        {
            this.blob = blob;
            this.lease = lease;
            Record = record;
            renewing = RenewAsync();
        }

        public IReadOnlyDictionary<string, string> Record { get; private set; }

        public async Task SaveAsync(IReadOnlyDictionary<string, string> record, CancellationToken cancellationToken)
        {
            await blob.SetMetadataAsync(
                record.ToDictionary(), new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken);
            Record = record;
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await renewing;
            stop.Dispose();
            try
            {
                await lease.ReleaseAsync();
            }
            catch (RequestFailedException)
            {
                // Lost or expired already: the lease frees itself within LeaseDuration.
            }
        }

        private async Task RenewAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(RenewEvery, stop.Token);
                    await lease.RenewAsync(cancellationToken: stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (RequestFailedException)
            {
                // Renewal failed: the lease will lapse; the holder's later writes with the lease id will fail loudly.
            }
        }
    }
}
