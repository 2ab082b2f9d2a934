using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: a hook's deliveries.</summary>
public static partial class GitHubShapes
{
    /// <summary>GitHub's <c>hook-delivery-item</c>.</summary>
    public static JsonObject HookDelivery(StandInDelivery delivery) => new()
    {
        ["id"] = delivery.Id,
        ["guid"] = delivery.DeliveryGuid,
        ["delivered_at"] = Time(delivery.DeliveredAt),
        ["redelivery"] = delivery.Redelivery,
        ["duration"] = 0.05,
        ["status"] = delivery.StatusCode switch { 0 => "No response", >= 200 and < 300 => "OK", _ => $"Invalid HTTP Response: {delivery.StatusCode}" },
        ["status_code"] = delivery.StatusCode,
        ["event"] = delivery.Event,
        ["action"] = delivery.Action,
        ["installation_id"] = null,
        ["repository_id"] = null,
        ["throttled_at"] = null,
    };
}
