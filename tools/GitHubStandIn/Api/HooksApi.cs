using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>A hook's delivery log and redeliveries (repository, organization and the GitHub App's own hook).</summary>
public sealed partial class StandInServer
{
    private void MapHooks(WebApplication web)
    {
        web.MapGet("/repos/{owner}/{repo}/hooks/{hook:long}/deliveries", (long hook) => Deliveries(hook));
        web.MapGet("/orgs/{org}/hooks/{hook:long}/deliveries", (long hook) => Deliveries(hook));
        web.MapGet("/app/hook/deliveries", (HttpContext context) =>
            IsAppJwt(context) ? Deliveries(options.HookId) : Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" }));
        web.MapPost("/repos/{owner}/{repo}/hooks/{hook:long}/deliveries/{id:long}/attempts", (long hook, long id) => Redeliver(hook, id));
        web.MapPost("/orgs/{org}/hooks/{hook:long}/deliveries/{id:long}/attempts", (long hook, long id) => Redeliver(hook, id));
        web.MapPost("/app/hook/deliveries/{id:long}/attempts", (long id, HttpContext context) =>
            IsAppJwt(context) ? Redeliver(options.HookId, id) : Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" }));
    }

    private IResult Deliveries(long hook) => hook != options.HookId
        ? NotFound()
        : Json(200, new JsonArray([.. State.DeliveryLog().OrderByDescending(d => d.Id).Select(d => (JsonNode)GitHubShapes.HookDelivery(d))]));

    private IResult Redeliver(long hook, long id)
    {
        if (hook != options.HookId || State.DeliveryLog().FirstOrDefault(d => d.Id == id) is not { } delivery)
        {
            return NotFound();
        }

        State.CountRedelivery();
        webhooks.Writer.TryWrite((delivery.Event, (JsonObject)delivery.Payload.DeepClone(), delivery.DeliveryGuid, true));
        return Json(202, new JsonObject());
    }
}
